//! `rmq completions SHELL`: print a shell completion script.

use crate::cli::Cli;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use clap::CommandFactory;
use clap_complete::Shell;

/// Print a shell completion script
///
/// Examples:
///   rmq completions bash > ~/.local/share/bash-completion/completions/rmq
///   rmq completions zsh > ~/.zfunc/_rmq      # with fpath+=~/.zfunc in ~/.zshrc
///   rmq completions fish > ~/.config/fish/completions/rmq.fish
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for
    #[arg(value_name = "SHELL")]
    pub shell: Shell,
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rmq", &mut buf);
    buf
}

/// Run `rmq completions`.
pub fn run(args: Args, _ctx: &Ctx) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(&script(args.shell))
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("writing to stdout", e))
}
