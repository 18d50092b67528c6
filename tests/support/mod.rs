//! Helpers shared by the integration-test binaries (`mod support;` in each `main.rs`):
//! the `rmq` command with a hermetic environment, unique names, and the broker harness.
#![allow(dead_code)] // each test binary uses a different subset

pub mod broker;
mod cluster;
mod external;
pub mod http_fault;
mod lifetime;
mod node;
mod ports;
mod process;
pub mod proxy;
pub mod query;
pub mod tls;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[allow(unused_imports)] // re-exports for the test modules; not every binary uses all
pub use broker::{Broker, pct_encode, setup};
#[allow(unused_imports)]
pub use process::{assert_success, run_with_timeout, wait_output};

/// Default limit for one `rmq` run through [`rmq()`]: no test can hang on it.
pub const RMQ_TIMEOUT: Duration = Duration::from_secs(60);

/// The `rmq` binary built for these tests.
pub fn rmq_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rmq"))
}

/// `rmq` as an `assert_cmd` command: hermetic environment (see [`rmq_std`]) and killed
/// after [`RMQ_TIMEOUT`] (override with `.timeout(..)`).
pub fn rmq() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(rmq_std());
    cmd.timeout(RMQ_TIMEOUT);
    cmd
}

/// [`rmq()`] with `--url URL` first: the start of most commands of the broker tests.
pub fn rmq_url(url: &str) -> assert_cmd::Command {
    let mut cmd = rmq();
    cmd.args(["--url", url]);
    cmd
}

/// Run `cmd` (bounded by `timeout`), which must succeed (else its stderr is the failure),
/// and return its stdout's lines.
pub fn stdout_lines(cmd: &mut assert_cmd::Command, timeout: Duration) -> Vec<String> {
    let out = cmd.timeout(timeout).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The stderr of a finished `rmq` run, as text (for assertions about its messages).
pub fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// `rmq` as a plain `std::process::Command`, for children the test drives itself (Ctrl-C,
/// broken pipes, long-running workers); the caller must bound its waits. Environment: no
/// `RMQ_*`/`AMQP_*` variables from the caller, `HOME` (and `XDG_CONFIG_HOME`) in a test
/// directory, `NO_COLOR=1`, `RMQ_NON_INTERACTIVE=1`, `RUST_BACKTRACE=0`, no `RUST_LOG`,
/// `COLUMNS` or `LINES`.
pub fn rmq_std() -> std::process::Command {
    let mut cmd = std::process::Command::new(rmq_bin());
    for (key, _) in std::env::vars_os() {
        if is_leaky_var(&key) {
            cmd.env_remove(&key);
        }
    }
    let home = test_home();
    cmd.env("XDG_CONFIG_HOME", home.join(".config"))
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env("RMQ_NON_INTERACTIVE", "1")
        .env("RUST_BACKTRACE", "0");
    cmd
}

fn is_leaky_var(key: &OsString) -> bool {
    let key = key.to_string_lossy();
    key.starts_with("RMQ_")
        || key.starts_with("AMQP_")
        || matches!(
            &*key,
            "RUST_LOG" | "CLICOLOR" | "CLICOLOR_FORCE" | "FORCE_COLOR" | "COLUMNS" | "LINES"
        )
}

/// An empty HOME for `rmq` runs, shared by the tests of all processes
/// (`$CARGO_TARGET_TMPDIR/rmq-test-home`).
pub fn test_home() -> PathBuf {
    let home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rmq-test-home");
    std::fs::create_dir_all(home.join(".config"))
        .unwrap_or_else(|e| panic!("creating {}: {e}", home.display()));
    home
}

/// A name no other test (of this or any other process, this run or an earlier one) uses:
/// `<prefix>-<pid>-<n>-<time>`, e.g. for queues, exchanges and vhosts.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        % 100_000_000;
    format!("{prefix}-{}-{n}-{t}", std::process::id())
}

/// True when `RMQ_TEST_STRICT=1`: then a test that cannot run what it is meant to fails
/// instead of skipping (scripts/test.sh sets it).
pub fn strict() -> bool {
    std::env::var("RMQ_TEST_STRICT").as_deref() == Ok("1")
}

/// Whether tmux runs here (the terminal tests drive it); when not, notes the skip.
pub fn have_tmux() -> bool {
    let have = std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        skip("tmux is not installed (apt-get install tmux)");
    }
    have
}

/// Says that the running test skips what it is meant to run, and why: prints
/// `SKIPPED: <test>: <reason>` on stderr, or panics with that line when [`strict`]. The
/// caller returns right after. The line goes to the process's stderr directly, past the
/// test harness's output capture, so it shows in a plain `cargo test` run too.
pub fn skip(reason: &str) {
    use std::io::Write;
    let current = std::thread::current();
    let test = current.name().unwrap_or("<unnamed test>");
    let line = format!("SKIPPED: {test}: {reason}");
    if strict() {
        panic!("{line} (RMQ_TEST_STRICT=1 turns a skip into a failure)");
    }
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Polls `condition` every 50 ms until it is true; panics with `what` after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
