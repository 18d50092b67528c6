//! `rmq definitions-export`: the broker's definitions as the management API's JSON.

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::mgmt::Api;
use crate::output::Out;
use std::io::Write;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  rmq definitions-export -o defs.json                 # the whole broker (file mode 0600)
  rmq definitions-export --vhost prod -o prod.json    # one vhost
  rmq definitions-export | jq '.queues | length'

The format is the management API's own (GET /api/definitions): a file exported here imports
in the management UI or rabbitmqadmin, and theirs import with rmq definitions-import.";

/// Export the broker's definitions (users, vhosts, permissions, policies, queues, exchanges,
/// bindings) as JSON
///
/// Without --vhost: the whole broker, which includes users' password hashes (a note on
/// stderr says so when writing to a terminal; -o writes the file readable by its owner only).
/// With --vhost: that vhost's queues, exchanges, bindings and policies. -o FILE is
/// written with mode 0600, also when it already exists with another mode.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Write to this file (mode 0600, also when it exists) instead of stdout
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Run `rmq definitions-export`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let vhost = ctx.global.vhost.clone();
    let defs = Api::new(ctx)?.definitions(vhost.as_deref())?;
    let Some(path) = &args.output else {
        if vhost.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            crate::log::note("these definitions contain the users' password hashes");
        }
        let mut out = Out::new();
        out.json(&defs)?;
        return out.flush();
    };
    let shown = path.display().to_string();
    let mut file = open_private(path, &shown)?;
    let text = serde_json::to_string_pretty(&defs)
        .map_err(|e| Error::Other(format!("cannot write JSON: {e}")))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .map_err(|e| Error::io(format!("writing '{shown}'"), e))?;
    crate::log::note(&format!(
        "wrote the definitions of {} to '{shown}'",
        vhost.map_or("the broker".to_string(), |v| format!("vhost '{v}'"))
    ));
    Ok(())
}

/// Open `path` for writing, readable by its owner only: created with mode 0600, and an
/// existing regular file (whatever its mode) narrowed to 0600 before it is emptied, so
/// the password hashes never sit in a file others can read. A device or pipe (`-o
/// /dev/stdout`) is written as it is.
fn open_private(path: &std::path::Path, shown: &str) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .map_err(|e| Error::io(format!("creating '{shown}'"), e))?;
    let regular = file
        .metadata()
        .map_err(|e| Error::io(format!("reading '{shown}'"), e))?
        .is_file();
    if regular {
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(|e| Error::io(format!("making '{shown}' readable by its owner only"), e))?;
        file.set_len(0)
            .map_err(|e| Error::io(format!("emptying '{shown}'"), e))?;
    }
    Ok(file)
}
