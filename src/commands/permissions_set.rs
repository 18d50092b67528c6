//! `rmq permissions-set`: a user's configure/write/read permissions in a vhost.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::parse_regex;
use crate::mgmt::Api;

const EXAMPLES: &str = "\
Examples:
  rmq permissions-set -u alice --vhost prod --configure '^$' --write '^orders$' --read '.*'
  rmq permissions-set -u ci --configure '.*' --write '.*' --read '.*'   # the URL's vhost";

/// Set a user's permissions in a vhost
///
/// Each of --configure, --write and --read is a regular expression on the names of the
/// queues and exchanges the user may declare/delete, publish to, and consume from or bind
/// ('^$' for none, '.*' for all). The vhost is --vhost (or the URL's). A missing user or
/// vhost is exit 5.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// The user (-u: --user is the connection's own user)
    #[arg(short = 'u', long = "for-user", value_name = "USER")]
    pub username: String,

    /// Resources the user may declare and delete (regular expression)
    #[arg(long, value_name = "RE", value_parser = parse_regex)]
    pub configure: regex::Regex,

    /// Resources the user may publish to (regular expression)
    #[arg(long, value_name = "RE", value_parser = parse_regex)]
    pub write: regex::Regex,

    /// Resources the user may consume from or bind (regular expression)
    #[arg(long, value_name = "RE", value_parser = parse_regex)]
    pub read: regex::Regex,
}

/// Run `rmq permissions-set`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let api = Api::new(ctx)?;
    let vhost = api.vhost().to_string();
    let perms = serde_json::json!({
        "configure": args.configure.as_str(),
        "write": args.write.as_str(),
        "read": args.read.as_str(),
    });
    api.permissions_put(&vhost, &args.username, &perms)?;
    let note = format!(
        "set permissions of user '{}' in vhost '{vhost}': configure '{}', write '{}', read '{}'",
        args.username,
        args.configure.as_str(),
        args.write.as_str(),
        args.read.as_str()
    );
    let mut json = perms;
    json["user"] = args.username.clone().into();
    json["vhost"] = vhost.into();
    crate::changes::done(ctx, &note, json)
}
