//! Tests that need no broker: generated files, help, usage errors, the exit-code table.
//! None starts or reaches a broker: runs that get past parsing point at a dead port. Every
//! `rmq` run goes through `support::rmq()` (hermetic environment, bounded).
// A test may unwrap: a panic is how it fails (Cargo.toml's [lints] are for src/).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod api_faults;
mod bad_input;
mod exit_codes;
mod filter;
mod generated;
mod harness;
mod help;
mod negative_numbers;
mod profiles;
mod props;
mod top;
mod usage;
