//! Tests that need no broker: generated files, help, usage errors, the exit-code table.
//! None starts or reaches a broker: runs that get past parsing point at a dead port.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod filter;
mod generated;
mod negative_numbers;
mod props;
mod usage;
