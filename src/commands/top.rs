//! `rmq top`: a live view of the queues of a vhost, polled through the management HTTP API:
//! a full-screen table on a terminal (top/live.rs, drawn by top/screen.rs), NDJSON lines on
//! a pipe or with `--json` (top/json.rs). top/poller.rs polls, top/sample.rs holds the data
//! (the depth history, the sort; top/rates.rs the rates), top/terminal.rs takes and restores
//! the terminal.

mod json;
mod live;
mod poller;
mod rates;
mod sample;
mod screen;
mod terminal;

use crate::cli::parse_positive_secs;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::parse_regex;
use crate::mgmt::Api;
use regex::Regex;
use sample::Sort;
use std::io::IsTerminal;
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  rmq top                                  # the connection's vhost, refreshed every 2 s
  rmq top --vhost prod --filter '^orders\\.' --sort rate
  rmq top --interval 10 --json >> depth.log    # a poor man's monitor: one line per queue per poll
  rmq top --json | jq -c 'select(.messages > 1000) | {timestamp, name, messages}'

Keys: q, Esc or Ctrl-C leave (the terminal is restored); s cycles the sort (messages, rate,
name); Up/Down (or k/j), PgUp/PgDn (or space), Home/End (or g/G) scroll.

Columns: name, messages (ready + unacked), ready, unacked, consumers, publish/s, deliver/s
(messages per second into the queue, and delivered or fetched from it), and the depth over
the last minute as a sparkline (one character per poll, scaled to the queue's own largest
depth; blank: empty). Rates come from the broker's message statistics: its own rate
(message_stats ..._details.rate) when it reports one above 0; else, when the queue's
counter grew since the previous poll, the counter's growth over the time since it last
changed (so also with management.rates_mode = none); a rate is shown on for up to 10 s
while the counter stands still (the plain API reads 0 between the broker's updates).
The counts come from the management plugin's statistics, which it
refreshes every 5 s by default (collect_statistics_interval).

On a pipe or with --json: one JSON object per queue per poll, flushed after each poll:
timestamp (RFC 3339, UTC), vhost, name, messages, ready, unacked, consumers, publish_rate,
deliver_rate (null while not known yet). It runs until Ctrl-C or SIGTERM (exit 0), or until
the reader goes away. An API that cannot be reached is exit 3 there; on the screen, the
status line says so and top keeps trying every interval.";

/// Watch the queues of a vhost live (management HTTP API)
///
/// A full-screen table of the vhost's queues on a terminal (messages, ready, unacked,
/// consumers, publish and deliver rates, a sparkline of the depth over the last minute),
/// refreshed every --interval; one JSON object per queue per refresh on a pipe or with
/// --json. The global --vhost picks the vhost.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Only queues whose name matches this regular expression (unanchored; use ^...$)
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    pub filter: Option<Regex>,

    /// Order of the rows (on the screen, the s key changes it)
    #[arg(long, value_enum, default_value = "messages")]
    pub sort: Sort,

    /// Seconds between two polls of the API
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = parse_positive_secs)]
    pub interval: f64,
}

/// Run `rmq top`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let api = Api::new(ctx)?;
    let vhost = api.vhost().to_string();
    let shown = api.shown();
    let interval = Duration::from_secs_f64(args.interval);
    let on_screen = !ctx.json() && std::io::stdout().is_terminal();
    let filter = args.filter.as_ref().map(|re| re.as_str().to_string());
    let polls = poller::start(api, vhost.clone(), args.filter, interval)?;
    if on_screen {
        live::run(
            polls,
            live::Settings {
                vhost,
                api: shown,
                filter,
                sort: args.sort,
                interval,
            },
        )
    } else {
        json::run(polls, &vhost, args.sort)
    }
}
