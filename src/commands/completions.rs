//! `rmq completions SHELL`: generate a shell completion script from the clap definition.
//! It writes only through `output::Out`; the checked-in copies in `completions/` are made by
//! `scripts/regen.sh`, never edited by hand.

use crate::cli::Cli;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::output::Out;
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
    let mut out = Out::new();
    out.bytes(&script(args.shell))?;
    out.flush()
}
