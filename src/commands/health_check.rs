//! `rmq health-check`: the management API's health checks; exit 9 when the broker says it is
//! not healthy, 3 when it cannot be asked.

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::listing::Scope;
use crate::mgmt::Api;
use crate::mgmt::health::{Check, NAMES};
use crate::output::Listing;
use serde_json::{Map, Value};

const EXAMPLES: &str = "\
Examples:
  rmq health-check                         # every check
  rmq health-check alarms                  # exit 9 during a memory or disk alarm
  rmq health-check port-listener 5672 aliveness
  until rmq health-check >/dev/null; do sleep 1; done          # wait for a booting broker
  rmq health-check --json | jq -r '.[] | select(.status != \"ok\") | .reason'

Checks: alarms (none in the cluster), local-alarms (none on the node answering),
virtual-hosts (all running), quorum-critical (the node can stop without a quorum queue
losing its quorum), port-listener P (something listens on port P), aliveness (a message
round-trips in the vhost of --vhost / the URL). Without names: all of them, port-listener
with the AMQP URL's port.

Output: one row per check (check, status, reason); --json an array of the same, plus the
broker's answer. Exit 0 when every check passed, 9 when the broker says one failed (stderr
names which and why), 3 when the management API cannot be reached or gives no whole answer
within 30 s (RMQ_API_TIMEOUT=SECS sets that bound for every API request), 4 when refused,
1 when it answers with an error (HTTP 500), naming it.";

/// Ask the broker's health checks (through the management HTTP API)
///
/// Fit for a Kubernetes probe or a wait loop: exit 0 healthy, 9 unhealthy, 3 unreachable.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Checks to run: alarms, local-alarms, virtual-hosts, quorum-critical, port-listener P,
    /// aliveness [default: all]
    #[arg(value_name = "CHECK")]
    pub checks: Vec<String>,
}

/// The checks named on the command line (a usage error for an unknown one).
fn parse(words: &[String], vhost: &str, port: u16) -> Result<Vec<Check>> {
    if words.is_empty() {
        return Ok(vec![
            Check::Alarms,
            Check::LocalAlarms,
            Check::VirtualHosts,
            Check::QuorumCritical,
            Check::PortListener(port),
            Check::Aliveness(vhost.to_string()),
        ]);
    }
    let mut checks = Vec::new();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        checks.push(match w.as_str() {
            "alarms" => Check::Alarms,
            "local-alarms" => Check::LocalAlarms,
            "virtual-hosts" => Check::VirtualHosts,
            "quorum-critical" => Check::QuorumCritical,
            "aliveness" => Check::Aliveness(vhost.to_string()),
            "port-listener" => {
                let p = it
                    .next()
                    .and_then(|p| p.parse::<u16>().ok())
                    .ok_or_else(|| {
                        Error::Usage(
                            "health-check port-listener needs a port, e.g. port-listener 5672"
                                .into(),
                        )
                    })?;
                Check::PortListener(p)
            }
            other => {
                return Err(Error::Usage(format!(
                    "unknown health check '{other}'; valid checks: {}",
                    NAMES.join(", ")
                )));
            }
        });
    }
    Ok(checks)
}

/// Run `rmq health-check`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let ep = ctx
        .endpoints()?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Usage("no broker URL given".into()))?;
    let checks = parse(&args.checks, &ep.vhost, ep.port)?;
    let api = Api::new(ctx)?;
    let mut listing = Listing::new(&["check", "status", "reason"]);
    let mut failed = Vec::new();
    for check in &checks {
        let outcome = api.health(check)?;
        let mut row = Map::new();
        row.insert("check".into(), check.name().into());
        row.insert(
            "status".into(),
            if outcome.ok { "ok" } else { "failed" }.into(),
        );
        row.insert("reason".into(), Value::String(outcome.reason.clone()));
        row.insert("answer".into(), outcome.answer);
        if !outcome.ok {
            failed.push(format!("{} ({})", check.name(), outcome.reason));
        }
        listing.push(row);
    }
    crate::listing::print(&listing, ctx.json(), "checks", Scope::Broker, false)?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Unhealthy(format!(
            "{} of {} health check(s) failed: {}",
            failed.len(),
            checks.len(),
            failed.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_parse_with_a_port_and_reject_unknown_names() {
        let w = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            parse(&w("alarms port-listener 5672"), "/", 1).unwrap(),
            vec![Check::Alarms, Check::PortListener(5672)]
        );
        assert_eq!(parse(&[], "/", 5672).unwrap().len(), 6);
        assert_eq!(
            parse(&w("port-listener"), "/", 1).unwrap_err().exit_code(),
            2
        );
        let e = parse(&w("nope"), "/", 1).unwrap_err();
        assert!(e.to_string().contains("valid checks: alarms"), "{e}");
    }
}
