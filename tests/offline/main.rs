//! Tests that need no broker: generated files, help, usage errors, the exit-code table.
//! Every `rmq` run goes through `support::rmq()` (hermetic environment, bounded).

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod exit_codes;
mod generated;
mod harness;
mod help;
mod props;
mod usage;
