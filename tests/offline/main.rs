//! Tests that need no broker: generated files, help, usage errors, the exit-code table.

mod bad_input;
mod filter;
mod generated;
mod props;
mod usage;
