//! The RabbitMQ management HTTP API: the only module that speaks HTTP.
//!
//! AMQP 0-9-1 has no way to list queues, exchanges or bindings, so the `list-*` commands ask
//! the management plugin (`rabbitmq-plugins enable rabbitmq_management`). It listens on
//! `http://<broker host>:15672` unless `--api-url`/`RMQ_API_URL` says otherwise, and takes
//! the same user, password and vhost as the AMQP settings. Names and vhosts are
//! percent-encoded into paths, URLs in messages are redacted, and every request is bounded
//! (connect: `--connect-timeout`; whole request, answer included: [`REQUEST_TIMEOUT`], or
//! `RMQ_API_TIMEOUT` seconds).
//!
//! This file holds the HTTP client; errors.rs maps its failures to rmq's errors, and the
//! requests live beside it (topology.rs: queues, exchanges, bindings; admin.rs: vhosts,
//! users, permissions, policies, connections; health.rs; definitions.rs), and url.rs parses
//! the API's address. Nothing here prints.

pub mod admin;
pub mod definitions;
mod errors;
pub mod health;
mod stream;
pub mod topology;
pub mod url;

use errors::{Failure, reason_of, strip_query, with_default};
pub use url::default_url;
use url::{is_loopback, parse_base, tls_config};

use crate::ctx::Ctx;
use crate::endpoint::redact_url;
use crate::error::{Error, Result};
use base64::Engine;
use serde_json::Value;
use std::time::Duration;

/// Upper bound for one request, answer included, unless [`TIMEOUT_ENV`] says otherwise.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The environment variable that sets the request timeout (seconds, e.g. `5` or `0.5`).
/// An environment variable rather than an option: CLI.md gives the admin commands no
/// `--timeout`, and a monitoring script sets it once for all its `health-check` runs.
pub const TIMEOUT_ENV: &str = "RMQ_API_TIMEOUT";

/// The management API's port when `--api-url` is not given.
pub const DEFAULT_API_PORT: u16 = 15672;

const ENABLE_HINT: &str = "is the management plugin enabled? rabbitmq-plugins enable \
                           rabbitmq_management (the management HTTP API is the only way to list \
                           queues, exchanges and bindings); if it listens elsewhere, set --api-url \
                           or RMQ_API_URL to its HTTP address (port 15672 by default, not the AMQP \
                           port)";

/// A client for one broker's management API.
pub struct Api {
    agent: ureq::Agent,
    /// Base URL without a trailing slash and without `/api`, e.g. `http://localhost:15672`.
    base: String,
    auth: String,
    user: String,
    vhost: String,
    /// The whole-request bound, for messages.
    timeout: Duration,
    /// Ask for gzip-compressed answers (not from a broker on this machine).
    gzip: bool,
}

/// What a request is about, for a 404.
#[derive(Clone, Debug)]
pub enum Subject {
    /// A vhost (listing its queues, exchanges or bindings).
    Vhost(String),
    /// A queue in a vhost.
    Queue(String, String),
    /// An exchange in a vhost.
    Exchange(String, String),
    /// Anything else (a user, a policy, a connection): how to name it, and the fix.
    Object {
        /// E.g. "user 'alice'".
        what: String,
        /// E.g. "check the name: rmq list-users".
        hint: String,
    },
}

impl Subject {
    fn describe(&self) -> String {
        match self {
            Subject::Vhost(v) => format!("vhost '{v}'"),
            Subject::Queue(v, q) => format!("queue '{q}' in vhost '{v}'"),
            Subject::Exchange(v, x) => format!("exchange '{x}' in vhost '{v}'"),
            Subject::Object { what, .. } => what.clone(),
        }
    }

    fn hint(&self) -> String {
        match self {
            Subject::Vhost(_) => {
                "check the name (rmq list-vhosts), or pick another with --vhost".into()
            }
            Subject::Queue(..) => "check the name: rmq list-queues".into(),
            Subject::Exchange(..) => "check the name: rmq list-exchanges".into(),
            Subject::Object { hint, .. } => hint.clone(),
        }
    }
}

impl Api {
    /// The API of the first broker in the connection settings.
    pub fn new(ctx: &Ctx) -> Result<Api> {
        let endpoints = ctx.endpoints()?;
        let ep = endpoints
            .first()
            .ok_or_else(|| Error::Usage("no broker URL given".into()))?;
        let raw = match &ctx.global.api_url {
            Some(u) if !u.trim().is_empty() => u.trim().to_string(),
            _ => default_url(&ep.host),
        };
        let (base, url_user, url_password) = parse_base(&raw)?;
        let user = url_user.unwrap_or_else(|| ep.user.clone());
        let password = url_password.unwrap_or_else(|| ep.password.clone());
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let connect = Duration::from_secs_f64(ctx.global.connect_timeout.max(0.001));
        let timeout = request_timeout(std::env::var(TIMEOUT_ENV).ok().as_deref())?;
        let mut builder = ureq::AgentBuilder::new()
            .timeout_connect(connect)
            .timeout(timeout)
            .redirects(0)
            .user_agent(concat!("rmq/", env!("CARGO_PKG_VERSION")));
        if base.starts_with("https://") {
            builder = builder.tls_config(tls_config(ctx)?);
        }
        crate::log::info(&format!("management API at {}", redact_url(&base)));
        Ok(Api {
            agent: builder.build(),
            gzip: !is_loopback(&base),
            base,
            auth,
            user,
            vhost: ep.vhost.clone(),
            timeout,
        })
    }

    /// The vhost of the connection settings (`--vhost` or the URL's).
    pub fn vhost(&self) -> &str {
        &self.vhost
    }

    /// The API's base URL, redacted, for messages.
    pub fn shown(&self) -> String {
        redact_url(&self.base)
    }

    /// GET a JSON array from `path`; a 404 means the vhost (`vhost`, else the connection's)
    /// does not exist.
    pub fn get_array(&self, path: &str, vhost: Option<&str>) -> Result<Vec<Value>> {
        let subject = Subject::Vhost(vhost.unwrap_or(&self.vhost).to_string());
        match self.get(path, subject)? {
            Value::Array(a) => Ok(a),
            other => Err(self.unexpected(path, &other)),
        }
    }

    fn unexpected(&self, path: &str, body: &Value) -> Error {
        let mut text = body.to_string();
        text.truncate(200);
        Error::Other(format!(
            "unexpected answer from the management API at {} for {}: {text}",
            self.shown(),
            strip_query(path)
        ))
    }

    /// GET `path` (starting with `/api/`) and parse the JSON answer. A 404 is reported as
    /// `subject` not found, unless the API itself is missing there.
    pub fn get(&self, path: &str, subject: Subject) -> Result<Value> {
        self.send("GET", path, None, subject)
    }

    /// Any request (`PUT`, `DELETE`, `POST`, `GET`) with an optional JSON body; the answer's
    /// JSON (`null` when empty). Failures are mapped as for [`Api::get`]; a 400 is a usage
    /// error quoting the broker's reason.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        subject: Subject,
    ) -> Result<Value> {
        self.request(method, path, body)
            .map_err(|f| self.judge(f, path, &subject))
    }

    /// GET a JSON array from `path` and hand each element to `each` as it arrives, without
    /// holding the whole answer (10,000 queues are ~4 MB of JSON, ~40 MB as one tree). Errors
    /// as for [`Api::get_array`]: a 404 means the vhost does not exist.
    pub fn get_each(
        &self,
        path: &str,
        vhost: Option<&str>,
        each: &mut dyn FnMut(Value),
    ) -> Result<()> {
        let subject = Subject::Vhost(vhost.unwrap_or(&self.vhost).to_string());
        let response = match self.call("GET", path, None, &[]) {
            Ok(Answer::Ok(r)) => r,
            Ok(Answer::Error(code, answer)) => {
                return Err(self.judge(Failure::status(code, &answer), path, &subject));
            }
            Err(f) => return Err(self.judge(f, path, &subject)),
        };
        let started = std::time::Instant::now();
        let mut reader = std::io::BufReader::with_capacity(64 * 1024, response.into_reader());
        match stream::each_element(&mut reader, each) {
            Ok(stream::Outcome::Array(n)) => {
                crate::log::debug(&format!(
                    "{n} elements in {:.0} ms",
                    started.elapsed().as_secs_f64() * 1000.0
                ));
                Ok(())
            }
            Ok(stream::Outcome::Other(v)) => Err(self.unexpected(path, &v)),
            Err(stream::Bad::Io(e)) => Err(self.explain(Failure::reading(&e), path)),
            Err(stream::Bad::Json(e)) => Err(self.explain(Failure::json(&e), path)),
        }
    }

    /// One request; a failure's HTTP status and the broker's reason are kept for the caller
    /// to judge.
    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> std::result::Result<Value, Failure> {
        match self.request_full(method, path, body, &[])? {
            (code, answer) if code >= 400 => Err(Failure::status(code, &answer)),
            (_, answer) => Ok(answer),
        }
    }

    /// One request with extra headers; the status and the JSON answer (`null` when empty, a
    /// JSON string when not JSON) whatever the status. Only transport failures, redirects and
    /// unreadable bodies are errors.
    fn request_full(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> std::result::Result<(u16, Value), Failure> {
        let started = std::time::Instant::now();
        let response = match self.call(method, path, body, headers)? {
            Answer::Ok(r) => r,
            Answer::Error(code, answer) => return Ok((code, answer)),
        };
        let status = response.status();
        let body = response.into_string().map_err(|e| Failure::reading(&e))?;
        crate::log::debug(&format!(
            "{} bytes in {:.0} ms",
            body.len(),
            started.elapsed().as_secs_f64() * 1000.0
        ));
        if body.trim().is_empty() {
            return Ok((status, Value::Null));
        }
        serde_json::from_str(&body)
            .map(|v| (status, v))
            .map_err(|e| Failure::json(&e))
    }

    /// Send one request: a success's response still to be read, or an error status with its
    /// JSON answer (a JSON string when not JSON). Transport failures and redirects are
    /// failures.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> std::result::Result<Answer, Failure> {
        let url = format!("{}{path}", self.base);
        crate::log::debug(&format!("{method} {}", redact_url(&url)));
        let mut request = self
            .agent
            .request(method, &url)
            .set("Authorization", &self.auth)
            .set("Accept", "application/json");
        if !self.gzip {
            request = request.set("Accept-Encoding", "identity");
        }
        for (k, v) in headers {
            request = request.set(k, v);
        }
        let sent = match body {
            Some(b) => request.send_json(b),
            None => request.call(),
        };
        let response = match sent {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                let text = r.into_string().unwrap_or_default();
                let answer = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
                return Ok(Answer::Error(code, answer));
            }
            Err(ureq::Error::Transport(t)) => return Err(Failure::Transport(Box::new(t))),
        };
        let status = response.status();
        if (300..400).contains(&status) {
            return Err(Failure::Status(status, String::new()));
        }
        Ok(Answer::Ok(response))
    }
}

/// The request timeout: `RMQ_API_TIMEOUT`'s seconds when set (and not empty), else
/// [`REQUEST_TIMEOUT`].
fn request_timeout(env: Option<&str>) -> Result<Duration> {
    let Some(text) = env.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(REQUEST_TIMEOUT);
    };
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs < 1e9 => Ok(Duration::from_secs_f64(secs)),
        _ => Err(Error::Usage(format!(
            "{TIMEOUT_ENV} must be a number of seconds greater than 0 (e.g. 5 or 0.5), got \
             '{text}'"
        ))),
    }
}

/// What [`Api::call`] got back.
enum Answer {
    Ok(ureq::Response),
    Error(u16, Value),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_timeout_comes_from_the_environment_or_is_30_s() {
        assert_eq!(request_timeout(None).unwrap(), REQUEST_TIMEOUT);
        assert_eq!(request_timeout(Some(" ")).unwrap(), REQUEST_TIMEOUT);
        assert_eq!(
            request_timeout(Some("0.5")).unwrap(),
            Duration::from_millis(500)
        );
        for bad in ["0", "-1", "soon", "inf"] {
            let e = request_timeout(Some(bad)).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(e.to_string().contains(TIMEOUT_ENV), "{e}");
        }
    }
}
