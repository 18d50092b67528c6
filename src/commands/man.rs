//! `rmq man`: render the man page (roff), one page with every subcommand, from the clap
//! definition plus the exit-code and environment tables. It writes only through `output::Out`
//! and holds no option of its own beyond what clap already knows.

use crate::cli::Cli;
use crate::ctx::Ctx;
use crate::error::{EXIT_TABLE, Error, Result};
use crate::output::Out;
use clap::CommandFactory;
use clap_mangen::Man;

/// Print the man page (roff)
///
/// Examples:
///   rmq man | man -l -
///   rmq man > ~/.local/share/man/man1/rmq.1
#[derive(Debug, clap::Args)]
pub struct Args {}

const ENVIRONMENT: &[(&str, &str)] = &[
    ("RMQ_URL", "Broker URL(s), comma-separated; else AMQP_URL."),
    ("AMQP_URL", "Broker URL when RMQ_URL is not set."),
    ("RMQ_PASSWORD", "Password, overriding the one in the URL."),
    (
        "RMQ_API_URL",
        "Management HTTP API URL (default http://<host>:15672).",
    ),
    (
        "RMQ_PROFILE",
        "Connection profile of the config file, like --profile (else its default_profile).",
    ),
    (
        "RMQ_CONFIG",
        "Config file of the profiles (else $XDG_CONFIG_HOME/rmq/config.toml, ~/.config/rmq/config.toml).",
    ),
    (
        "RMQ_API_TIMEOUT",
        "Seconds one management API request may take, answer included (default 30); past \
         it, exit 3.",
    ),
    (
        "RMQ_QUEUE",
        "Default queue for send, receive, worker and peek (else task_queue).",
    ),
    (
        "RMQ_NON_INTERACTIVE",
        "When 1, never prompt; destructive commands then need --yes.",
    ),
    ("NO_COLOR", "No colors in tables."),
];

/// The whole man page.
pub fn page() -> Result<Vec<u8>> {
    let cmd = Cli::command();
    let mut buf = Vec::new();
    let io = |e: std::io::Error| Error::io("rendering the man page", e);
    let man = Man::new(cmd.clone());
    man.render_title(&mut buf).map_err(io)?;
    man.render_name_section(&mut buf).map_err(io)?;
    man.render_synopsis_section(&mut buf).map_err(io)?;
    man.render_description_section(&mut buf).map_err(io)?;
    man.render_options_section(&mut buf).map_err(io)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        buf.extend_from_slice(format!(".SH \"RMQ {}\"\n", name.to_uppercase()).as_bytes());
        let mut part = Vec::new();
        let sub = sub.clone().bin_name(format!("rmq {name}"));
        let sman = Man::new(sub);
        sman.render_synopsis_section(&mut part).map_err(io)?;
        sman.render_description_section(&mut part).map_err(io)?;
        sman.render_options_section(&mut part).map_err(io)?;
        let text = String::from_utf8_lossy(&part)
            .replace(".SH SYNOPSIS", ".SS Synopsis")
            .replace(".SH DESCRIPTION", ".SS Description")
            .replace(".SH OPTIONS", ".SS Options");
        buf.extend_from_slice(text.as_bytes());
    }
    buf.extend_from_slice(b".SH \"EXIT STATUS\"\n");
    for (code, meaning) in EXIT_TABLE {
        buf.extend_from_slice(format!(".TP\n{code}\n{}\n", escape(meaning)).as_bytes());
    }
    buf.extend_from_slice(b".SH ENVIRONMENT\n");
    for (var, meaning) in ENVIRONMENT {
        buf.extend_from_slice(format!(".TP\n.B {var}\n{}\n", escape(meaning)).as_bytes());
    }
    man.render_version_section(&mut buf).map_err(io)?;
    Ok(buf)
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('-', "\\-")
}

/// Run `rmq man`.
pub fn run(_args: Args, _ctx: &Ctx) -> Result<()> {
    let page = page()?;
    let mut out = Out::new();
    out.bytes(&page)?;
    out.flush()
}
