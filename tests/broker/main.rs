//! Integration tests against a real RabbitMQ node (see `tests/support/`).
//! One module per command or area; add yours to the list below.
// A test may unwrap: a panic is how it fails (Cargo.toml's [lints] are for src/).
#![allow(clippy::unwrap_used, clippy::expect_used)]

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
mod filter;
mod half_open;
mod harness;
mod heartbeat;
mod interactive;
mod kill9;
mod listing;
mod listing_order;
mod move_faults;
mod move_messages;
mod perf;
mod profiles;
mod restart;
mod secrets;
mod secrets_admin;
mod send_receive;
mod stream_resume;
mod streams;
mod tls;
mod top;
mod tree;
mod tutorials;
mod vhost_in_errors;
mod worker;
