//! One file per subcommand; this only dispatches.

pub mod call;
pub mod peek;
pub mod receive;
pub mod send;
pub mod worker;

use crate::cli::Command;
use crate::ctx::Ctx;
use crate::error::Result;

/// Run a parsed subcommand.
pub fn dispatch(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Send(a) => send::run(a, ctx),
        Command::Receive(a) => receive::run(a, ctx),
        Command::Peek(a) => peek::run(a, ctx),
        Command::Worker(a) => worker::run(a, ctx),
        Command::Call(a) => call::run(a, ctx),
    }
}
