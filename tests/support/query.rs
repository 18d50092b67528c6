//! Questions the tests ask a node: management API requests, queue lookups, exact message
//! counts through `rabbitmqctl`. It never starts, stops or configures a node (`node.rs`).

use std::process::{Command, Output};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

use super::broker::{Broker, CTL_TIMEOUT, HTTP_TIMEOUT, RABBITMQ_BIN, pct_encode};
use super::process::run_with_timeout;

impl Broker {
    /// GET a management API path (`"overview"`, `"/overview"` and `"/api/overview"` are the
    /// same); panics unless the answer is 2xx.
    pub fn api_get(&self, path: &str) -> Value {
        let (status, body) = self.api_request("GET", path, None);
        assert!(
            (200..300).contains(&status),
            "GET {path}: HTTP {status}: {body}"
        );
        body
    }

    /// PUT JSON to a management API path; panics unless the answer is 2xx.
    pub fn api_put(&self, path: &str, body: &Value) {
        let (status, answer) = self.api_request("PUT", path, Some(body));
        assert!(
            (200..300).contains(&status),
            "PUT {path}: HTTP {status}: {answer}"
        );
    }

    /// POST JSON to a management API path; panics unless the answer is 2xx.
    pub fn api_post(&self, path: &str, body: &Value) -> Value {
        let (status, answer) = self.api_request("POST", path, Some(body));
        assert!(
            (200..300).contains(&status),
            "POST {path}: HTTP {status}: {answer}"
        );
        answer
    }

    /// DELETE a management API path: true if it was deleted, false if it did not exist
    /// (404); panics on any other answer.
    pub fn api_delete(&self, path: &str) -> bool {
        let (status, body) = self.api_request("DELETE", path, None);
        match status {
            200..=299 => true,
            404 => false,
            _ => panic!("DELETE {path}: HTTP {status}: {body}"),
        }
    }

    /// Any management API request, never panicking on the HTTP status: returns the status and
    /// the body (JSON when it parses, else a JSON string; `null` when empty). Panics only when
    /// the API cannot be reached at all.
    pub fn api_request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let url = format!("{}{}", self.api_url, api_path(path));
        match http(method, &url, &self.user, &self.password, body) {
            Ok((status, text)) => (status, parse_body(&text)),
            Err(e) => panic!("{method} {url}: {e}"),
        }
    }

    /// The management API's view of a queue (`GET /api/queues/{vhost}/{queue}`), or `None`
    /// when it does not exist. Its message counts lag by up to a second; see
    /// [`Broker::queue_messages`] for exact counts.
    pub fn queue_info(&self, vhost: &str, queue: &str) -> Option<Value> {
        let path = format!("queues/{}/{}", pct_encode(vhost), pct_encode(queue));
        match self.api_request("GET", &path, None) {
            (200, body) => Some(body),
            (404, _) => None,
            (status, body) => panic!("GET {path}: HTTP {status}: {body}"),
        }
    }

    /// Consumers on every queue of the vhost, from the node itself (no stats lag).
    pub fn consumers(&self, vhost: &str) -> u64 {
        let out = self.rabbitmqctl(&[
            "-q",
            "list_queues",
            "-p",
            vhost,
            "consumers",
            "--no-table-headers",
        ]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse::<u64>().ok())
            .sum()
    }

    /// Messages in a queue (ready + unacknowledged), exact at the time of the call: asked of
    /// the node with `rabbitmqctl list_queues` (no stats lag). Against an external broker,
    /// the management API is polled until the count stays the same for 2 s. Panics when the
    /// queue does not exist.
    pub fn queue_messages(&self, vhost: &str, queue: &str) -> u64 {
        if self.node.is_none() {
            return self.queue_messages_from_api(vhost, queue);
        }
        let out = self.rabbitmqctl(&[
            "-q",
            "list_queues",
            "-p",
            vhost,
            "name",
            "messages",
            "--formatter",
            "json",
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "rabbitmqctl list_queues -p {vhost} failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("rabbitmqctl list_queues: bad JSON ({e}): {stdout}"));
        let row = rows
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["name"] == queue))
            .unwrap_or_else(|| panic!("queue {queue:?} not found in vhost {vhost:?}: {stdout}"));
        row["messages"]
            .as_u64()
            .unwrap_or_else(|| panic!("queue {queue:?}: no message count in {row}"))
    }

    fn queue_messages_from_api(&self, vhost: &str, queue: &str) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last: Option<(u64, Instant)> = None;
        loop {
            let info = self
                .queue_info(vhost, queue)
                .unwrap_or_else(|| panic!("queue {queue:?} not found in vhost {vhost:?}"));
            let n = info["messages"].as_u64();
            match (n, last) {
                (Some(n), Some((m, since))) if n == m => {
                    if since.elapsed() >= Duration::from_secs(2) {
                        return n;
                    }
                }
                (Some(n), _) => last = Some((n, Instant::now())),
                (None, _) => last = None,
            }
            assert!(
                Instant::now() < deadline,
                "queue {queue:?}: message count did not settle: {info}"
            );
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// Runs `rabbitmqctl -n <node> ARGS` with this node's HOME (so the Erlang cookie matches),
    /// killed after [`CTL_TIMEOUT`]. Against an external broker the caller's environment is
    /// used as it is.
    pub fn rabbitmqctl(&self, args: &[&str]) -> Output {
        let mut cmd = match &self.node {
            Some(node) => node.ctl_command(),
            None => {
                let mut c = Command::new(format!("{RABBITMQ_BIN}/rabbitmqctl"));
                c.args(["-n", &self.node_name]);
                c
            }
        };
        cmd.args(args);
        run_with_timeout(&mut cmd, CTL_TIMEOUT)
    }
}

pub(crate) fn api_path(path: &str) -> String {
    let path = path.trim_start_matches('/');
    if path.starts_with("api/") {
        format!("/{path}")
    } else {
        format!("/api/{path}")
    }
}

pub(super) fn parse_body(text: &str) -> Value {
    if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
    }
}

/// One HTTP request with basic auth; `Ok((status, body))` for any HTTP answer, `Err` when
/// there was none (refused, timed out, …).
pub(super) fn http(
    method: &str,
    url: &str,
    user: &str,
    password: &str,
    body: Option<&Value>,
) -> Result<(u16, String), String> {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    let agent = AGENT.get_or_init(|| {
        ureq::AgentBuilder::new()
            .timeout(HTTP_TIMEOUT)
            .redirects(0)
            .build()
    });
    let auth = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
    let request = agent.request(method, url).set("Authorization", &auth);
    let result = match body {
        Some(b) => request
            .set("Content-Type", "application/json")
            .send_string(&b.to_string()),
        None => request.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = response.status();
    let text = response
        .into_string()
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok((status, text))
}

/// Standard base64 with padding (basic-auth credentials).
pub(crate) fn base64(input: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(input)
}
