//! Tests that need no broker: generated files, help, usage errors, the exit-code table.

mod generated;
mod usage;
