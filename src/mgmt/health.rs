//! The management API's health checks (`/api/health/checks/*`, `/api/aliveness-test`): which
//! exist, their paths, and what the broker answered. It never decides an exit code or prints;
//! `commands/health_check.rs` does.

use super::{Api, Failure, reason_of};
use crate::endpoint::encode_vhost;
use crate::error::Result;
use serde_json::Value;

/// One health check, as named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// No resource alarm (memory, disk) anywhere in the cluster.
    Alarms,
    /// No resource alarm on the node answering.
    LocalAlarms,
    /// Every vhost is running on the node answering.
    VirtualHosts,
    /// The node is not critical for any quorum queue's quorum (safe to stop).
    QuorumCritical,
    /// Something listens on this port on the node answering.
    PortListener(u16),
    /// A message can be published and consumed in this vhost.
    Aliveness(String),
}

/// The names `health-check` takes.
pub const NAMES: &[&str] = &[
    "alarms",
    "local-alarms",
    "virtual-hosts",
    "quorum-critical",
    "port-listener",
    "aliveness",
];

impl Check {
    /// The name shown in results (`port-listener 5672`).
    pub fn name(&self) -> String {
        match self {
            Check::Alarms => "alarms".into(),
            Check::LocalAlarms => "local-alarms".into(),
            Check::VirtualHosts => "virtual-hosts".into(),
            Check::QuorumCritical => "quorum-critical".into(),
            Check::PortListener(p) => format!("port-listener {p}"),
            Check::Aliveness(v) => format!("aliveness {v}"),
        }
    }

    fn path(&self) -> String {
        match self {
            Check::Alarms => "/api/health/checks/alarms".into(),
            Check::LocalAlarms => "/api/health/checks/local-alarms".into(),
            Check::VirtualHosts => "/api/health/checks/virtual-hosts".into(),
            Check::QuorumCritical => "/api/health/checks/node-is-quorum-critical".into(),
            Check::PortListener(p) => format!("/api/health/checks/port-listener/{p}"),
            Check::Aliveness(v) => format!("/api/aliveness-test/{}", encode_vhost(v)),
        }
    }
}

/// What the broker said about one check.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Passed?
    pub ok: bool,
    /// The broker's reason when it failed (with the alarms or vhosts it names).
    pub reason: String,
    /// The broker's whole answer.
    pub answer: Value,
}

impl Api {
    /// Run one check. The broker answering "unhealthy" (HTTP 503, or a status other than
    /// "ok") is an [`Outcome`] with `ok: false`; an unreachable or refusing API is an error.
    pub fn health(&self, check: &Check) -> Result<Outcome> {
        let path = check.path();
        let (code, answer) = self
            .request_full("GET", &path, None, &[])
            .map_err(|f| self.explain(f, &path))?;
        let status = answer.get("status").and_then(Value::as_str);
        match code {
            200..=299 if status.is_none_or(|s| s == "ok") => Ok(Outcome {
                ok: true,
                reason: String::new(),
                answer,
            }),
            200..=299 | 503 => Ok(Outcome {
                ok: false,
                reason: describe_failure(&answer),
                answer,
            }),
            404 if matches!(check, Check::Aliveness(_)) => {
                Err(self.explain_missing_vhost(check, &path))
            }
            _ => Err(self.explain(Failure::Status(code, reason_of(&answer)), &path)),
        }
    }

    fn explain_missing_vhost(&self, check: &Check, path: &str) -> crate::error::Error {
        match check {
            Check::Aliveness(v) => crate::error::Error::NotFound {
                what: format!("vhost '{v}'"),
                reason: format!("the management API answered 404 for {path}"),
                hint: "check the name (rmq list-vhosts), or pick another with --vhost".into(),
            },
            _ => crate::error::Error::Other(format!("unexpected 404 for {path}")),
        }
    }
}

/// "resource alarm(s) in effect in the cluster: memory on rabbit@a" and the like.
fn describe_failure(answer: &Value) -> String {
    let mut reason = reason_of(answer);
    if reason.is_empty() {
        reason = answer
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("failed")
            .to_string();
    }
    let mut details: Vec<String> = Vec::new();
    if let Some(alarms) = answer.get("alarms").and_then(Value::as_array) {
        for a in alarms {
            let field = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
            details.push(format!("{} on {}", field("resource"), field("node")));
        }
    }
    for key in ["virtual-hosts", "queues"] {
        if let Some(items) = answer.get(key).and_then(Value::as_array) {
            details.extend(items.iter().map(|i| {
                match i {
                    Value::String(s) => s.clone(),
                    other => other
                        .get("name")
                        .and_then(Value::as_str)
                        .map_or_else(|| other.to_string(), String::from),
                }
            }));
        }
    }
    if details.is_empty() {
        reason
    } else {
        format!("{reason}: {}", details.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failures_name_the_alarms() {
        let a = json!({"status": "failed", "reason": "resource alarm(s) in effect in the cluster",
                       "alarms": [{"node": "rabbit@a", "resource": "memory"}]});
        assert_eq!(
            describe_failure(&a),
            "resource alarm(s) in effect in the cluster: memory on rabbit@a"
        );
        assert_eq!(describe_failure(&json!({"status": "failed"})), "failed");
    }
}
