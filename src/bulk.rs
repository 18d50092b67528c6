//! Bulk `queue-delete --pattern` / `queue-purge --pattern`: find the queues whose names
//! match (management API), list them, ask once, then act on each over AMQP. What is done to
//! one queue is the command's closure; listing and asking live here, once.

use crate::amqp::Session;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::listing::{Scope, parse_regex};
use crate::mgmt::Api;
use crate::output::Listing;
use crate::prompt::Confirm;
use regex::Regex;
use serde_json::{Map, Value};

/// `--pattern` and `--dry-run`, flattened into queue-delete and queue-purge.
#[derive(Debug, Clone, clap::Args)]
pub struct BulkArgs {
    /// Act on every queue of the vhost whose name matches this regular expression (lists
    /// them first, then asks once)
    #[arg(long, value_name = "REGEX", value_parser = parse_regex, conflicts_with = "queue")]
    pub pattern: Option<Regex>,

    /// With --pattern: only list the queues that match; change nothing
    #[arg(long, requires = "pattern")]
    pub dry_run: bool,
}

/// Run `verb` ("delete", "purge") on every queue matching `re`: list them on stdout, ask
/// (or `--yes`), then `act(session, queue)` on each, which returns the messages removed.
pub fn run(
    ctx: &Ctx,
    args: &BulkArgs,
    re: &Regex,
    yes: bool,
    verb: &str,
    mut act: impl FnMut(&mut Session, &str) -> Result<u64>,
) -> Result<()> {
    let vhost = ctx.vhost()?;
    let confirm = Confirm::require(
        yes || args.dry_run,
        &format!(
            "{verb} of the queues matching '{}' in vhost '{vhost}'",
            re.as_str()
        ),
    )?;
    let api = Api::new(ctx)?;
    let mut queues = api.queues(Some(&vhost))?;
    crate::commands::list_queues::sort_by_vhost_and_name(&mut queues);
    let mut listing = Listing::new(&["name", "messages", "consumers"]);
    let mut names = Vec::new();
    for q in &queues {
        let name = crate::commands::list_queues::str_field(q, "name");
        if !re.is_match(&name) {
            continue;
        }
        let mut row = Map::new();
        row.insert(
            "messages".into(),
            q.get("messages").cloned().unwrap_or(Value::Null),
        );
        row.insert(
            "consumers".into(),
            q.get("consumers").cloned().unwrap_or(Value::Null),
        );
        row.insert("name".into(), name.clone().into());
        listing.push(row);
        names.push(name);
    }
    crate::listing::print(&listing, ctx.json(), "queues", Scope::Vhost(&vhost), true)?;
    if args.dry_run || names.is_empty() {
        if args.dry_run {
            crate::log::note(&format!(
                "dry run: {} queue(s) would be {verb}d; nothing was changed",
                names.len()
            ));
        }
        return Ok(());
    }
    confirm.ask(&format!(
        "{} {} queue(s) in vhost '{vhost}'?",
        capitalise(verb),
        names.len()
    ))?;
    let mut session = ctx.connect(&format!("rmq queue-{verb}"))?;
    let mut total = 0;
    for (i, name) in names.iter().enumerate() {
        total += act(&mut session, name).map_err(|e| match e {
            Error::NotFound { .. } => e,
            e if i > 0 => Error::Other(format!(
                "{e} (after {i} of {} queue(s) were {verb}d)",
                names.len()
            )),
            e => e,
        })?;
    }
    session.close();
    crate::log::note(&format!(
        "{verb}d {} queue(s) in vhost '{vhost}' ({total} message(s))",
        names.len()
    ));
    Ok(())
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
