//! Real RabbitMQ nodes for the integration tests.
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

use std::collections::hash_map::RandomState;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, OnceLock, TryLockError, Weak};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

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

/// Ports handed to test nodes are `PORT_BASE + 4k .. +3`, all below the ephemeral range
/// (32768-60999 here) so that no outgoing connection can be holding them.
const PORT_BASE: u16 = 20000;
const PORT_BLOCKS: u16 = 2999; // last block: 31996..=31999
/// Never used for test nodes: the defaults of a system broker (5672, 15672, 25672, 4369
/// are below PORT_BASE anyway) and the fixed ports of `scripts/test-broker.sh`.
const RESERVED_PORTS: &[u16] = &[21672, 21673, 21674, 25672];
/// Port range for the distribution listener of `rabbitmqctl` itself (default 35672-35682:
/// only 11 slots shared by every CLI run on the machine).
const CTL_DIST_PORTS: (u16, u16) = (36000, 36999);
/// Logged by RabbitMQ 3.10 once the `rabbit` app has stopped (listeners closed, clients
/// told, queues and message stores flushed). What follows is a fixed ~7 s of plugin and VM
/// shutdown that tests do not need to wait for.
const STOPPED_MARKER: &str = "Management plugin: to stop collect_statistics";

/// One RabbitMQ broker the tests can talk to.
pub struct Broker {
    host: String,
    amqp_port: u16,
    api_url: String,
    api_port: u16,
    user: String,
    password: String,
    node_name: String,
    /// `None` for an external broker (`RMQ_TEST_URL`).
    node: Option<Arc<Node>>,
    shared: bool,
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
    /// external broker: the caller should return early (a message is printed).
    pub fn dedicated() -> Option<Broker> {
        if external_url().is_some() {
            eprintln!("skipping: a dedicated broker is needed, but RMQ_TEST_URL is set");
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
            eprintln!("skipping: a dedicated broker is needed, but RMQ_TEST_URL is set");
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

    /// `n` dedicated nodes joined into one RabbitMQ cluster (the first is the seed), for
    /// failover tests with quorum queues. Slow (n boots and n - 1 joins): callers keep it
    /// out of the default run. `None` when `RMQ_TEST_URL` is set.
    pub fn dedicated_cluster(n: usize) -> Option<Vec<Broker>> {
        if external_url().is_some() {
            eprintln!("skipping: a dedicated cluster is needed, but RMQ_TEST_URL is set");
            return None;
        }
        let cookie: String = (0..20)
            .map(|_| char::from(b'A' + (random() % 26) as u8))
            .collect();
        let extra = Extra {
            cookie: Some(cookie),
            ..Extra::default()
        };
        let nodes: Vec<Broker> = (0..n)
            .map(|_| {
                launch_with(false, &extra)
                    .unwrap_or_else(|e| panic!("cluster node unavailable: {e}"))
            })
            .collect();
        let seed = nodes[0].node_name().to_string();
        for node in &nodes[1..] {
            for args in [
                vec!["stop_app"],
                vec!["join_cluster", seed.as_str()],
                vec!["start_app"],
                vec!["await_startup"],
            ] {
                let out = node.rabbitmqctl(&args);
                assert!(
                    out.status.success(),
                    "rabbitmqctl {args:?} on {}: {}{}",
                    node.node_name(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        Some(nodes)
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

/// Percent-encodes everything but RFC 3986 unreserved characters, with lowercase hex
/// (`/` → `%2f`), for vhost and object names in AMQP URLs and API paths.
pub fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// Runs a command to completion with its stdout and stderr captured, killing it (and
/// reporting so on stderr) when it takes longer than `timeout`. Stdin is `/dev/null`.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().expect("reaping a killed child");
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for {cmd:?}: {e}"),
        }
    };
    // A grandchild may keep the pipes open after a kill: don't wait for it forever.
    let stdout = join_reader(out_reader, Duration::from_secs(5));
    let mut stderr = join_reader(err_reader, Duration::from_secs(5));
    if timed_out {
        stderr.extend_from_slice(format!("\n[killed after {timeout:?}: {cmd:?}]\n").as_bytes());
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

fn join_reader(handle: thread::JoinHandle<Vec<u8>>, timeout: Duration) -> Vec<u8> {
    let deadline = Instant::now() + timeout;
    while !handle.is_finished() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    if handle.is_finished() {
        handle.join().unwrap_or_default()
    } else {
        Vec::new()
    }
}

// ---------------------------------------------------------------------------------------
// External broker (RMQ_TEST_URL)

fn external_url() -> Option<String> {
    ["RMQ_TEST_URL", "RMQ_TEST_AMQP_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

fn external_from_env() -> Option<Result<Broker, String>> {
    let url = external_url()?;
    Some(external(&url))
}

fn external(url: &str) -> Result<Broker, String> {
    let bad = |why: &str| format!("RMQ_TEST_URL={url:?}: {why}");
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("not a URL"))?;
    let default_port = match scheme {
        "amqp" => 5672,
        "amqps" => 5671,
        _ => return Err(bad("expected amqp:// or amqps://")),
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let (userinfo, hostport) = authority
        .rsplit_once('@')
        .unwrap_or(("guest:guest", authority));
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, amqp_port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| bad("bad port"))?),
        None => (hostport, default_port),
    };
    let api_url = std::env::var("RMQ_TEST_API_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("http://{host}:15672"));
    let api_url = api_url.trim_end_matches('/').to_string();
    let api_port = api_url
        .rsplit_once(':')
        .and_then(|(_, p)| p.split('/').next()?.parse().ok())
        .unwrap_or(if api_url.starts_with("https") {
            443
        } else {
            80
        });
    let (user, password) = (pct_decode(user), pct_decode(password));
    let overview = format!("{api_url}/api/overview");
    let (status, body) = http("GET", &overview, &user, &password, None)
        .map_err(|e| format!("external broker: GET {overview}: {e}"))?;
    if status != 200 {
        return Err(format!(
            "external broker: GET {overview}: HTTP {status}: {body}"
        ));
    }
    let node_name = parse_body(&body)["node"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(Broker {
        host: host.to_string(),
        amqp_port,
        api_url,
        api_port,
        user,
        password,
        node_name,
        node: None,
        shared: true,
    })
}

fn pct_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------
// Our own nodes

static NODE_COUNTER: AtomicUsize = AtomicUsize::new(0);
static REGISTRY: Mutex<Vec<Weak<Node>>> = Mutex::new(Vec::new());
static AT_EXIT: Once = Once::new();

/// One node of ours: its files, its ports, and the running VM if any.
struct Node {
    name: String,
    dir: tempfile::TempDir,
    ports: Ports,
    /// pid of the running `beam.smp` (0 when stopped), readable without the lock at exit.
    pid: AtomicU32,
    proc: Mutex<Option<Running>>,
}

struct Running {
    beam: Child,
    watchdog: Option<(Child, ChildStdin)>,
}

struct Ports {
    amqp: u16,
    api: u16,
    dist: u16,
    /// Free for `{api_tls}` in the extra configuration (a management https listener).
    api_tls: u16,
    /// Held while the node exists: other test processes skip this block of ports.
    _lock: File,
}

struct BootError {
    message: String,
    port_conflict: bool,
}

/// Configuration added by [`Broker::dedicated_with`].
#[derive(Default)]
struct Extra {
    conf: String,
    plugins: Vec<String>,
    /// Erlang cookie shared by the nodes of a cluster (else a random one).
    cookie: Option<String>,
}

fn launch(shared: bool) -> Result<Broker, String> {
    launch_with(shared, &Extra::default())
}

fn launch_with(shared: bool, extra: &Extra) -> Result<Broker, String> {
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

fn brokers_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rmq-brokers")
}

impl Node {
    fn create(extra: &Extra) -> Result<Node, String> {
        let n = NODE_COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
        let short = format!("rmqtest-{}-{n}", std::process::id());
        let root = brokers_root();
        fs::create_dir_all(&root).map_err(|e| format!("creating {}: {e}", root.display()))?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{short}."))
            .tempdir_in(&root)
            .map_err(|e| format!("creating a temp dir in {}: {e}", root.display()))?;
        let ports = reserve_ports()?;
        let d = dir.path();
        for sub in ["home", "mnesia", "log"] {
            fs::create_dir_all(d.join(sub)).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let write = |name: &str, text: &str| {
            fs::write(d.join(name), text).map_err(|e| format!("writing {name}: {e}"))
        };
        write("owner", &format!("{}\n", std::process::id()))?;
        let extra_conf = extra
            .conf
            .replace("{amqp}", &ports.amqp.to_string())
            .replace("{api_tls}", &ports.api_tls.to_string());
        let tcp = if extra.conf.contains("{amqp}") {
            // No plain listener at all (else RabbitMQ opens its default, 5672).
            "listeners.tcp = none\n".to_string()
        } else {
            format!("listeners.tcp.default = 127.0.0.1:{}\n", ports.amqp)
        };
        let mut plugins = vec!["rabbitmq_management".to_string()];
        plugins.extend(extra.plugins.iter().cloned());
        write(
            "rabbitmq.conf",
            &format!(
                "# generated by tests/support/broker.rs\n\
                 {tcp}\
                 management.tcp.ip = 127.0.0.1\n\
                 management.tcp.port = {api}\n\
                 loopback_users = none\n\
                 log.console = false\n\
                 log.file.level = info\n\
                 # a nearly full CI disk must not block publishers\n\
                 disk_free_limit.absolute = 1MB\n\
                 # management API stats refresh every 0.5 s instead of 5 s\n\
                 collect_statistics_interval = 500\n\
                 {extra_conf}\n",
                api = ports.api,
            ),
        )?;
        write("enabled_plugins", &format!("[{}].\n", plugins.join(",")))?;
        // Sourced by the scripts instead of /etc/rabbitmq/rabbitmq-env.conf.
        write("rabbitmq-env.conf", "# intentionally empty\n")?;
        let mut cookie = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o400)
            .open(d.join("home/.erlang.cookie"))
            .map_err(|e| format!("writing the Erlang cookie: {e}"))?;
        let secret: String = match &extra.cookie {
            Some(c) => c.clone(),
            None => (0..20)
                .map(|_| char::from(b'A' + (random() % 26) as u8))
                .collect(),
        };
        cookie
            .write_all(secret.as_bytes())
            .map_err(|e| format!("writing the Erlang cookie: {e}"))?;
        Ok(Node {
            name: format!("{short}@localhost"),
            dir,
            ports,
            pid: AtomicU32::new(0),
            proc: Mutex::new(None),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn log_path(&self) -> PathBuf {
        self.path("log").join(format!("{}.log", self.name))
    }

    fn pid_file(&self) -> PathBuf {
        self.path("beam.pid")
    }

    fn lock_proc(&self) -> MutexGuard<'_, Option<Running>> {
        self.proc.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn running_pid(&self) -> Option<u32> {
        self.lock_proc().as_ref().map(|r| r.beam.id())
    }

    /// Environment shared by the server and the CLI: nothing inherited but PATH and TMPDIR.
    fn base_command(&self, program: &str) -> Command {
        let mut cmd = Command::new(Path::new(RABBITMQ_BIN).join(program));
        cmd.env_clear();
        for key in ["PATH", "TMPDIR"] {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        cmd.env("HOME", self.path("home"))
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .env("RABBITMQ_CONF_ENV_FILE", self.path("rabbitmq-env.conf"))
            .env("RABBITMQ_CTL_DIST_PORT_MIN", CTL_DIST_PORTS.0.to_string())
            .env("RABBITMQ_CTL_DIST_PORT_MAX", CTL_DIST_PORTS.1.to_string())
            .stdin(Stdio::null());
        cmd
    }

    fn ctl_command(&self) -> Command {
        let mut cmd = self.base_command("rabbitmqctl");
        cmd.args(["-n", &self.name]);
        cmd
    }

    fn server_command(&self) -> Result<Command, String> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("log/stdout.log"))
            .map_err(|e| format!("opening the node's stdout log: {e}"))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("opening the node's stdout log: {e}"))?;
        let mut cmd = self.base_command("rabbitmq-server");
        cmd.env("RABBITMQ_NODENAME", &self.name)
            .env("RABBITMQ_CONFIG_FILE", self.path("rabbitmq.conf"))
            .env(
                "RABBITMQ_ADVANCED_CONFIG_FILE",
                self.path("advanced.config"),
            )
            .env(
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                self.path("enabled_plugins"),
            )
            .env("RABBITMQ_MNESIA_BASE", self.path("mnesia"))
            .env("RABBITMQ_LOG_BASE", self.path("log"))
            .env("RABBITMQ_PID_FILE", self.pid_file())
            .env("RABBITMQ_DIST_PORT", self.ports.dist.to_string())
            // exec the VM in place of the script, so that our child is beam.smp itself
            .env("RABBITMQ_ALLOW_INPUT", "1")
            .env(
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                "-noinput -kernel inet_dist_use_interface {127,0,0,1}",
            )
            // only used if this node has to start epmd itself (none running yet)
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            // a crashing VM writes erl_crash.dump here, not into the crate
            .env("ERL_CRASH_DUMP", self.path("log/erl_crash.dump"))
            .current_dir(self.dir.path())
            .stdout(out)
            .stderr(err)
            // own process group: a Ctrl-C meant for `cargo test` does not reach the node
            // directly; the watchdog or the atexit handler stops it
            .process_group(0);
        Ok(cmd)
    }

    /// Starts the VM and waits until it is ready: `rabbitmqctl wait --pid <pid>` succeeded,
    /// the AMQP port accepts connections and `GET /api/overview` answers 200.
    fn boot(&self) -> Result<(), BootError> {
        let fail = |message: String| BootError {
            message,
            port_conflict: false,
        };
        let started = Instant::now();
        let _ = fs::remove_file(self.pid_file());
        let log_offset = file_len(&self.log_path());
        let out_offset = file_len(&self.path("log/stdout.log"));
        let mut cmd = self.server_command().map_err(fail)?;
        let beam = cmd
            .spawn()
            .map_err(|e| fail(format!("spawning rabbitmq-server: {e}")))?;
        let pid = beam.id();
        self.pid.store(pid, Ordering::SeqCst);
        let watchdog = spawn_watchdog(pid, self.dir.path());
        *self.lock_proc() = Some(Running { beam, watchdog });
        ensure_at_exit_hook();

        let result = self.wait_ready(started);
        if let Err(why) = result {
            self.kill_now();
            let log = excerpt(&self.log_path(), log_offset, 10, 30);
            // config errors come first, the VM's last words last
            let out = excerpt(&self.path("log/stdout.log"), out_offset, 20, 15);
            let ctl = excerpt(&self.path("log/ctl-wait.log"), 0, 0, 10);
            let all = format!("{log}{out}");
            let port_conflict = all.contains("eaddrinuse") || all.contains("already in use");
            return Err(BootError {
                message: format!(
                    "RabbitMQ node {} (amqp {}, api {}, dist {}) failed to start: {why}\n\
                     --- {} (tail) ---\n{log}--- stdout/stderr (tail) ---\n{out}\
                     --- rabbitmqctl wait ---\n{ctl}",
                    self.name,
                    self.ports.amqp,
                    self.ports.api,
                    self.ports.dist,
                    self.log_path().display(),
                ),
                port_conflict,
            });
        }
        eprintln!(
            "[rmq-test] node {} ready in {:.1}s (amqp 127.0.0.1:{}, api 127.0.0.1:{}, dist {}, dir {})",
            self.name,
            started.elapsed().as_secs_f64(),
            self.ports.amqp,
            self.ports.api,
            self.ports.dist,
            self.dir.path().display()
        );
        Ok(())
    }

    fn wait_ready(&self, started: Instant) -> Result<(), String> {
        let deadline = started + BOOT_TIMEOUT;
        let wait_log = File::create(self.path("log/ctl-wait.log"))
            .map_err(|e| format!("creating ctl-wait.log: {e}"))?;
        let wait_err = wait_log
            .try_clone()
            .map_err(|e| format!("creating ctl-wait.log: {e}"))?;
        let timeout_secs = BOOT_TIMEOUT.as_secs().to_string();
        let pid = self.pid.load(Ordering::SeqCst).to_string();
        // `wait --pid` rather than `wait <pidfile>`: same check, but it gives up as soon as
        // the VM dies, even before the VM wrote its pid file.
        let mut wait = self
            .ctl_command()
            .args(["wait", "--pid", &pid, "--timeout", &timeout_secs])
            .stdout(wait_log)
            .stderr(wait_err)
            .spawn()
            .map_err(|e| format!("spawning rabbitmqctl wait: {e}"))?;
        let mut ctl_done = false;
        let result = loop {
            if let Some(status) = self.try_wait_beam() {
                break Err(format!("the node exited during boot ({status})"));
            }
            if !ctl_done {
                match wait.try_wait() {
                    Ok(Some(s)) if s.success() => ctl_done = true,
                    Ok(Some(s)) => break Err(format!("rabbitmqctl wait failed ({s})")),
                    Ok(None) => {}
                    Err(e) => break Err(format!("rabbitmqctl wait: {e}")),
                }
            }
            if ctl_done && self.amqp_accepts() && self.api_ready() {
                break Ok(());
            }
            if Instant::now() >= deadline {
                break Err(format!("not ready after {BOOT_TIMEOUT:?}"));
            }
            thread::sleep(Duration::from_millis(100));
        };
        if !ctl_done {
            let _ = wait.kill();
        }
        let _ = wait.wait();
        result
    }

    fn try_wait_beam(&self) -> Option<std::process::ExitStatus> {
        let mut guard = self.lock_proc();
        let running = guard.as_mut()?;
        running.beam.try_wait().ok().flatten()
    }

    fn amqp_accepts(&self) -> bool {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.ports.amqp));
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
    }

    fn api_ready(&self) -> bool {
        let url = format!("http://127.0.0.1:{}/api/overview", self.ports.api);
        matches!(http("GET", &url, "guest", "guest", None), Ok((200, _)))
    }

    /// SIGTERM, then SIGKILL once RabbitMQ says the broker has stopped (or after
    /// [`STOP_TIMEOUT`]).
    fn stop_graceful(&self) {
        let mut guard = self.lock_proc();
        let Some(mut running) = guard.take() else {
            return;
        };
        let log = self.log_path();
        let offset = file_len(&log);
        let pid = running.beam.id();
        // SAFETY: plain kill(2) on our own child, which has not been reaped yet.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Ok(Some(_)) = running.beam.try_wait() {
                break;
            }
            if log_since(&log, offset).contains(STOPPED_MARKER) || Instant::now() >= deadline {
                let _ = running.beam.kill();
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        running.finish();
        self.pid.store(0, Ordering::SeqCst);
    }

    /// SIGKILL and reap; no-op when not running.
    fn kill_now(&self) {
        let mut guard = self.lock_proc();
        if let Some(mut running) = guard.take() {
            let _ = running.beam.kill();
            running.finish();
        }
        self.pid.store(0, Ordering::SeqCst);
    }

    /// At process exit: never block on the lock (another thread might hold it).
    fn kill_at_exit(&self) {
        let pid = self.pid.swap(0, Ordering::SeqCst);
        if pid != 0 {
            // SAFETY: kill(2) of the pid we spawned; it is not reaped yet (reaping clears it).
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
        let guard = match self.proc.try_lock() {
            Ok(g) => Some(g),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if let Some(mut guard) = guard
            && let Some(mut running) = guard.take()
        {
            let _ = running.beam.kill();
            running.finish();
        }
    }
}

impl Running {
    /// Reaps the (dead or killed) VM and dismisses its watchdog.
    fn finish(&mut self) {
        let _ = self.beam.wait();
        if let Some((mut child, mut stdin)) = self.watchdog.take() {
            let _ = stdin.write_all(b"done\n");
            drop(stdin);
            let _ = child.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill_now();
        // the TempDir field removes the directory after this
    }
}

/// A `sh` that kills the node if the test process dies before it could: its stdin is a pipe
/// from us (close-on-exec, so no other child holds it). A line on it means "all is well, go";
/// end of file means we died. It only kills a pid whose command line still names our dir.
fn spawn_watchdog(pid: u32, dir: &Path) -> Option<(Child, ChildStdin)> {
    let script = r#"read line || { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2" && kill -KILL "$1"; }"#;
    let child = Command::new("/bin/sh")
        .args(["-c", script, "rmq-test-watchdog"])
        .arg(pid.to_string())
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    match child {
        Ok(mut child) => {
            let stdin = child.stdin.take()?;
            Some((child, stdin))
        }
        Err(e) => {
            eprintln!("[rmq-test] warning: no watchdog for node pid {pid}: {e}");
            None
        }
    }
}

fn register(node: &Arc<Node>) {
    let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    registry.retain(|w| w.strong_count() > 0);
    registry.push(Arc::downgrade(node));
}

fn ensure_at_exit_hook() {
    AT_EXIT.call_once(|| {
        // SAFETY: registering a plain `extern "C" fn()` that never unwinds.
        let rc = unsafe { libc::atexit(kill_all_at_exit) };
        if rc != 0 {
            eprintln!("[rmq-test] warning: atexit registration failed; the watchdog remains");
        }
    });
}

extern "C" fn kill_all_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let nodes: Vec<Weak<Node>> = match REGISTRY.try_lock() {
            Ok(g) => g.clone(),
            Err(TryLockError::Poisoned(p)) => p.into_inner().clone(),
            Err(TryLockError::WouldBlock) => return,
        };
        for node in nodes.iter().filter_map(Weak::upgrade) {
            node.kill_at_exit();
            // Statics are never dropped, so the TempDir of the shared node would stay.
            let _ = fs::remove_dir_all(node.dir.path());
        }
    });
}

/// Kills nodes left behind by test processes that died (owner pid gone), and removes their
/// directories. Runs once per process.
fn clean_stale_nodes() {
    static CLEANED: Once = Once::new();
    CLEANED.call_once(|| {
        let Ok(entries) = fs::read_dir(brokers_root()) else {
            return;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            let owner = fs::read_to_string(dir.join("owner"))
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok());
            let stale = match owner {
                Some(pid) => !pid_alive(pid),
                // a dir being created right now has no owner file yet
                None => entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(600)),
            };
            if !stale {
                continue;
            }
            if let Some(pid) = fs::read_to_string(dir.join("beam.pid"))
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
            {
                let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                if cmdline.contains(&*dir.to_string_lossy()) {
                    eprintln!(
                        "[rmq-test] killing stale test node pid {pid} ({})",
                        dir.display()
                    );
                    // SAFETY: kill(2); the command line check above makes it our old node.
                    unsafe {
                        libc::kill(pid as libc::pid_t, libc::SIGKILL);
                    }
                }
            }
            let _ = fs::remove_dir_all(&dir);
        }
    });
}

fn pid_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Picks a block of three consecutive free ports (AMQP, API, distribution) below 32768,
/// locked against other test processes for as long as the returned `Ports` lives.
fn reserve_ports() -> Result<Ports, String> {
    let lock_dir = std::env::temp_dir().join("rmq-test-ports");
    fs::create_dir_all(&lock_dir).map_err(|e| format!("creating {}: {e}", lock_dir.display()))?;
    for _ in 0..500 {
        let base = PORT_BASE + (random() % u64::from(PORT_BLOCKS)) as u16 * 4;
        let ports = [base, base + 1, base + 2, base + 3];
        if ports.iter().any(|p| RESERVED_PORTS.contains(p)) {
            continue;
        }
        let lock_path = lock_dir.join(format!("{base}.lock"));
        let Ok(lock) = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
        else {
            continue;
        };
        if lock.try_lock().is_err() {
            continue;
        }
        let free = ports.iter().all(|&p| {
            TcpListener::bind((Ipv4Addr::UNSPECIFIED, p)).is_ok()
                && TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok()
        });
        if free {
            return Ok(Ports {
                amqp: base,
                api: base + 1,
                dist: base + 2,
                api_tls: base + 3,
                _lock: lock,
            });
        }
    }
    Err("no free block of 4 ports found in 20000-31999".into())
}

fn random() -> u64 {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    h.write_usize(SEQ.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn log_since(path: &Path, offset: u64) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = usize::try_from(offset).unwrap_or(0).min(bytes.len());
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// The first `head` and the last `tail` lines written to `path` after `offset`.
fn excerpt(path: &Path, offset: u64, head: usize, tail: usize) -> String {
    let text = log_since(path, offset);
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return "(empty)\n".into();
    }
    let mut out = String::new();
    if lines.len() <= head + tail {
        lines.iter().for_each(|l| out.push_str(&format!("{l}\n")));
    } else {
        let skipped = lines.len() - head - tail;
        lines[..head]
            .iter()
            .for_each(|l| out.push_str(&format!("{l}\n")));
        out.push_str(&format!("[… {skipped} lines …]\n"));
        lines[lines.len() - tail..]
            .iter()
            .for_each(|l| out.push_str(&format!("{l}\n")));
    }
    out
}

// ---------------------------------------------------------------------------------------
// Management API over HTTP

fn api_path(path: &str) -> String {
    let path = path.trim_start_matches('/');
    if path.starts_with("api/") {
        format!("/{path}")
    } else {
        format!("/api/{path}")
    }
}

fn parse_body(text: &str) -> Value {
    if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
    }
}

/// One HTTP request with basic auth; `Ok((status, body))` for any HTTP answer, `Err` when
/// there was none (refused, timed out, …).
fn http(
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

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_vhosts_and_credentials() {
        assert_eq!(pct_encode("/"), "%2f");
        assert_eq!(pct_encode("a b/c~d"), "a%20b%2fc~d");
        assert_eq!(pct_decode("%2F%2fx%zz"), "//x%zz");
        assert_eq!(base64(b"guest:guest"), "Z3Vlc3Q6Z3Vlc3Q=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
        assert_eq!(api_path("overview"), "/api/overview");
        assert_eq!(api_path("/api/overview"), "/api/overview");
    }
}
