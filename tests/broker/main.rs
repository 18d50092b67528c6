//! Integration tests against a real RabbitMQ node (see `tests/support/broker.rs`).
//! One module per command or area; add yours to the list below.

#[path = "../support/mod.rs"]
mod support;

mod admin;
mod admin_tty;
mod alarm;
mod bad_input;
mod bg;
mod call;
mod day2;
mod exit_codes;
mod faults;
mod harness;
mod interactive;
mod kill9;
mod listing;
mod perf;
mod restart;
mod secrets;
mod send_receive;
mod tls;
mod tutorials;
mod vhost_in_errors;
mod worker;
