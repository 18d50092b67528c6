//! `rmq user-declare`: create or update a user; the password comes from a file or stdin,
//! never from argv, and is never printed.

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::mgmt::Api;
use std::io::BufRead;

const EXAMPLES: &str = "\
Examples:
  rmq user-declare alice --password-file alice.pw --tags management
  pass show rabbit/bob | rmq user-declare bob --password-stdin
  RMQ_PASSWORD=\"$ADMIN_PW\" rmq user-declare ci --password-file ci.pw --tags monitoring";

/// Create or update a user
///
/// The new password is read from --password-file F (here the new user's password: the
/// connection's then comes from --password, RMQ_PASSWORD, the profile or the URL) or from the first line
/// of stdin (--password-stdin); it never appears in argv or in any output. An existing user
/// gets the new password and tags. --tags: administrator, monitoring, policymaker,
/// management, or none (a user that can only use AMQP).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Name of the user
    #[arg(value_name = "USER")]
    pub username: String,

    /// Read the new user's password from the first line of stdin
    #[arg(long)]
    pub password_stdin: bool,

    /// Tags (comma-separated), e.g. management or administrator
    #[arg(long, value_name = "TAGS", value_delimiter = ',')]
    pub tags: Vec<String>,
}

/// Run `rmq user-declare`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    // The global --password-file is the new user's password here, not the connection's.
    let mut global = ctx.global.clone();
    let file = global.password_file.take();
    let ctx = &Ctx::new(global);
    let password = match (&file, args.password_stdin) {
        (Some(_), true) => {
            return Err(Error::Usage(
                "user-declare: give --password-file or --password-stdin, not both".into(),
            ));
        }
        (Some(path), false) => {
            crate::ctx::first_line(&std::fs::read_to_string(path).map_err(|e| {
                Error::Usage(format!(
                    "cannot read --password-file '{}': {e}",
                    path.display()
                ))
            })?)
        }
        (None, true) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::io("reading the password from stdin", e))?;
            line.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) => {
            return Err(Error::Usage(format!(
                "user-declare '{}' needs a password: --password-file FILE or --password-stdin \
                 (never on the command line)",
                args.username
            )));
        }
    };
    if password.is_empty() {
        return Err(Error::Usage(format!(
            "user-declare '{}': the password is empty",
            args.username
        )));
    }
    let tags: Vec<String> = args
        .tags
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let api = Api::new(ctx)?;
    let existed = api.user_exists(&args.username)?;
    api.user_put(&args.username, &password, &tags)?;
    let u = &args.username;
    let note = if existed {
        format!("updated user '{u}' (password and tags: {})", tags.join(","))
    } else {
        format!("created user '{u}' (tags: {})", tags.join(","))
    };
    crate::changes::done(
        ctx,
        &note,
        serde_json::json!({"user": u, "tags": tags, "created": !existed}),
    )
}
