//! The [`Broker`] handle the tests hold: the node shared by a test process (started once,
//! reused by every test), dedicated nodes a test owns, their URLs and vhosts, stop/start.
//! It holds no process management (`node.rs`, `lifetime.rs`) and no queries (`query.rs`).
//!
//! [`Broker::shared`] boots one isolated node per test process (lazily, on first use) and
//! [`Broker::dedicated`] boots one more node that the caller owns, for tests that stop or
//! restart the broker. Every node:
//!
//! - runs `/usr/lib/rabbitmq/bin/rabbitmq-server` directly (not `/usr/sbin/…`, which `su`s),
//!   with `RABBITMQ_ALLOW_INPUT=1` so that the script `exec`s the VM: the child we spawn *is*
//!   `beam.smp`, and killing it by pid kills the node;
//! - has its own node name (`rmqtest-<pid>-<n>@localhost`), Erlang cookie, config file,
//!   enabled-plugins file (`[rabbitmq_management].`) and data/log directories, all in a temp
//!   dir under `$CARGO_TARGET_TMPDIR/rmq-brokers/`; `/etc/rabbitmq/*` is never read;
//! - listens on 127.0.0.1 only, on three free ports below 32768 (AMQP, HTTP API,
//!   distribution), reserved across concurrent test processes with a lock file per block;
//! - is killed by pid when its owner goes away: `Drop` for a dedicated node, a `libc::atexit`
//!   handler at the end of the test process for every node, and a tiny watchdog process
//!   (`sh`, reading a pipe from the test process) when the test process dies without running
//!   atexit handlers (SIGKILL, SIGTERM from `timeout`, Ctrl-C).
//!
//! Set `RMQ_TEST_URL` (alias `RMQ_TEST_AMQP_URL`), and optionally `RMQ_TEST_API_URL`, to run
//! against an existing broker instead: `shared()` then uses it, and `dedicated()` returns
//! `None` so that stop/restart tests skip themselves.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::json;

use super::external::{external_from_env, external_url};
use super::lifetime::{clean_stale_nodes, register};
use super::node::{Extra, Node};

/// Where Debian's package puts the real scripts (`/usr/sbin/rabbitmq-*` are `su` wrappers).
pub const RABBITMQ_BIN: &str = "/usr/lib/rabbitmq/bin";
/// A node that is not ready within this time fails the test, with the tail of its log.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(60);
/// Upper bound for a graceful stop before the node is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound for one `rabbitmqctl` run.
pub const CTL_TIMEOUT: Duration = Duration::from_secs(60);
/// Upper bound for one management API request.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// One RabbitMQ broker the tests can talk to.
pub struct Broker {
    pub(super) host: String,
    pub(super) amqp_port: u16,
    pub(super) api_url: String,
    pub(super) api_port: u16,
    pub(super) user: String,
    pub(super) password: String,
    pub(super) node_name: String,
    /// `None` for an external broker (`RMQ_TEST_URL`).
    pub(super) node: Option<Arc<Node>>,
    pub(super) shared: bool,
}

impl Broker {
    /// The broker shared by every test of this process: booted on first use, killed when the
    /// process exits. Tests isolate themselves with [`Broker::vhost`].
    pub fn shared() -> &'static Broker {
        static SHARED: OnceLock<Result<Broker, String>> = OnceLock::new();
        let result = SHARED.get_or_init(|| match external_from_env() {
            Some(broker) => broker,
            None => launch(true),
        });
        match result {
            Ok(broker) => broker,
            Err(e) => panic!("shared test broker unavailable: {e}"),
        }
    }

    /// A node of its own, for tests that stop, kill or restart the broker. It is killed when
    /// dropped (also when the test panics). `None` when `RMQ_TEST_URL` points the tests at an
    /// external broker: the caller should return early ([`super::skip`] was called).
    pub fn dedicated() -> Option<Broker> {
        if external_url().is_some() {
            super::skip("a dedicated broker is needed, but RMQ_TEST_URL is set");
            return None;
        }
        match launch(false) {
            Ok(broker) => Some(broker),
            Err(e) => panic!("dedicated test broker unavailable: {e}"),
        }
    }

    /// [`Broker::dedicated`] with more lines in its `rabbitmq.conf` and more plugins
    /// enabled (e.g. a TLS listener, `max_message_size`, `rabbitmq_auth_mechanism_ssl`).
    /// `{api_tls}` stands for one more free port (e.g. `management.ssl.port = {api_tls}`).
    /// `{amqp}` in `extra_conf` stands for the node's AMQP port: then the caller's lines own
    /// that port (e.g. `listeners.ssl.default = 127.0.0.1:{amqp}` makes it a TLS port) and
    /// the plain TCP listener is not configured.
    pub fn dedicated_with(extra_conf: &str, extra_plugins: &[&str]) -> Option<Broker> {
        if external_url().is_some() {
            super::skip("a dedicated broker is needed, but RMQ_TEST_URL is set");
            return None;
        }
        let extra = Extra {
            conf: extra_conf.to_string(),
            plugins: extra_plugins.iter().map(|p| p.to_string()).collect(),
            cookie: None,
        };
        match launch_with(false, &extra) {
            Ok(broker) => Some(broker),
            Err(e) => panic!("dedicated test broker unavailable: {e}"),
        }
    }

    /// `amqp://user:password@127.0.0.1:PORT/<vhost>`, the vhost percent-encoded (`/` is `%2f`).
    pub fn amqp_url(&self, vhost: &str) -> String {
        format!(
            "amqp://{}:{}@{}:{}/{}",
            pct_encode(&self.user),
            pct_encode(&self.password),
            self.host,
            self.amqp_port,
            pct_encode(vhost)
        )
    }

    /// `http://127.0.0.1:APIPORT`, without a trailing slash.
    pub fn api_url(&self) -> String {
        self.api_url.clone()
    }

    pub fn amqp_port(&self) -> u16 {
        self.amqp_port
    }

    pub fn api_port(&self) -> u16 {
        self.api_port
    }

    /// The port `{api_tls}` stood for in [`Broker::dedicated_with`]'s configuration (None for
    /// an external broker).
    pub fn api_tls_port(&self) -> Option<u16> {
        self.node.as_ref().map(|n| n.ports.api_tls)
    }

    /// Erlang node name, e.g. `rmqtest-1234-1@localhost`.
    pub fn node_name(&self) -> &str {
        &self.node_name
    }

    /// User and password of the URLs (`guest`/`guest` for our own nodes).
    pub fn credentials(&self) -> (&str, &str) {
        (&self.user, &self.password)
    }

    /// True when the tests run against `RMQ_TEST_URL` rather than a node of their own.
    pub fn is_external(&self) -> bool {
        self.node.is_none()
    }

    /// OS pid of the node's `beam.smp` while it runs (`None` when stopped or external).
    pub fn pid(&self) -> Option<u32> {
        self.node.as_ref().and_then(|n| n.running_pid())
    }

    /// The node's own directory (config, `mnesia/`, `log/`); `None` when external.
    pub fn dir(&self) -> Option<&Path> {
        self.node.as_ref().map(|n| n.dir.path())
    }

    /// Path of the node's main log file; `None` when external.
    pub fn log_file(&self) -> Option<PathBuf> {
        self.node.as_ref().map(|n| n.log_path())
    }

    /// Creates the vhost `name` afresh (deleted first if it exists, with all it holds),
    /// grants the test user full permissions on it, and returns `name`. Give every test its
    /// own vhost and tests can run in parallel on the shared broker.
    pub fn vhost(&self, name: &str) -> String {
        let v = pct_encode(name);
        self.api_delete(&format!("vhosts/{v}"));
        self.api_put(&format!("vhosts/{v}"), &json!({}));
        self.api_put(
            &format!("permissions/{v}/{}", pct_encode(&self.user)),
            &json!({"configure": ".*", "write": ".*", "read": ".*"}),
        );
        name.to_string()
    }

    /// Stops the node the way an operator would (SIGTERM: clients get `connection.close`,
    /// queues and message stores are flushed), keeping its data and ports, and returns once it
    /// is down. To save ~7 s, the VM is killed as soon as RabbitMQ logs that the broker itself
    /// has stopped (only plugin and VM shutdown remain). No-op when already stopped.
    pub fn stop(&self) {
        self.own_node("stop").stop_graceful();
    }

    /// Kills the node with SIGKILL (a crash: clients see the TCP connection drop), keeping
    /// its data and ports. No-op when already stopped.
    pub fn kill(&self) {
        self.own_node("kill").kill_now();
    }

    /// Starts the stopped node again on the same ports and data, and waits until it is ready
    /// (panics with its log after [`BOOT_TIMEOUT`]). No-op when it runs.
    pub fn start(&self) {
        let node = self.own_node("start");
        if node.running_pid().is_some() {
            return;
        }
        if let Err(e) = node.boot() {
            panic!("restarting {}: {}", node.name, e.message);
        }
    }

    /// [`Broker::stop`] then [`Broker::start`]: same ports, same data (durable queues and
    /// persistent messages survive).
    pub fn restart(&self) {
        self.stop();
        self.start();
    }

    fn own_node(&self, what: &str) -> &Arc<Node> {
        assert!(
            !self.shared,
            "{what}() on the shared broker would break the other tests: use Broker::dedicated()"
        );
        self.node
            .as_ref()
            .unwrap_or_else(|| panic!("{what}() needs a node of our own, not RMQ_TEST_URL"))
    }
}

/// The shared broker, a fresh vhost named `<prefix>-<unique>` ([`Broker::vhost`]) and the
/// AMQP URL into it: how most broker tests begin.
pub fn setup(prefix: &str) -> (&'static Broker, String, String) {
    let b = Broker::shared();
    let vh = b.vhost(&super::unique_name(prefix));
    let url = b.amqp_url(&vh);
    (b, vh, url)
}

/// Boots one node of our own (a few attempts when its ports turn out to be taken).
fn launch(shared: bool) -> Result<Broker, String> {
    launch_with(shared, &Extra::default())
}

pub(super) fn launch_with(shared: bool, extra: &Extra) -> Result<Broker, String> {
    let server = Path::new(RABBITMQ_BIN).join("rabbitmq-server");
    if !server.exists() {
        return Err(format!(
            "{} is missing: install Debian's rabbitmq-server (scripts/test.sh does), \
             or point RMQ_TEST_URL at a running broker",
            server.display()
        ));
    }
    clean_stale_nodes();
    let mut failures = Vec::new();
    for _ in 0..4 {
        let node = Arc::new(Node::create(extra)?);
        register(&node);
        match node.boot() {
            Ok(()) => {
                return Ok(Broker {
                    host: "127.0.0.1".into(),
                    amqp_port: node.ports.amqp,
                    api_url: format!("http://127.0.0.1:{}", node.ports.api),
                    api_port: node.ports.api,
                    user: "guest".into(),
                    password: "guest".into(),
                    node_name: node.name.clone(),
                    node: Some(node),
                    shared,
                });
            }
            Err(e) if e.port_conflict => failures.push(e.message),
            Err(e) => return Err(e.message),
        }
    }
    Err(format!(
        "port conflicts on every attempt:\n{}",
        failures.join("\n")
    ))
}

/// RFC 3986 unreserved characters: the only ones [`pct_encode`] leaves as they are.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes everything but RFC 3986 unreserved characters, with lowercase hex
/// (`/` → `%2f`), for vhost and object names in AMQP URLs and API paths.
pub fn pct_encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED)
        .map(|piece| {
            // the crate writes `%2F`; keep the lowercase hex the URLs have always had
            if piece.starts_with('%') {
                piece.to_ascii_lowercase()
            } else {
                piece.to_string()
            }
        })
        .collect()
}

/// Decodes `%XX` escapes (either case); a `%` not followed by two hex digits stays as it is.
pub(crate) fn pct_decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}
