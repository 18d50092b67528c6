//! `rmq call` (tutorial 6's RPC client) against `rmq worker` and against the pika tutorial's
//! server and client (`tests/fixtures/rpc_*.py`, skipped when pika is not importable).

use crate::support::{rmq_url, run_with_timeout, setup, skip};
use crate::worker::{WAIT, stop, worker};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// fib(n) as a shell command (the tutorial's server computes the same).
const FIB: &str =
    r#"awk '{a = 0; b = 1; for (i = 0; i < $1; i++) {t = a + b; a = b; b = t}; print a}'"#;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A Python that can `import pika`: `python3` from PATH, else the system's `/usr/bin/python3`
/// (where Debian's python3-pika goes when PATH has another Python first). When there is none,
/// says why the test is skipped ([`skip`]: a failure with `RMQ_TEST_STRICT=1`).
fn python_with_pika() -> Option<&'static str> {
    let found = ["python3", "/usr/bin/python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import pika"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        skip("python3 cannot import pika (apt-get install python3-pika, or pip install pika)");
    }
    found
}

#[test]
fn call_gets_the_reply_from_an_rmq_worker_rpc_server() {
    let (_, _, url) = setup("rpc-rmq");
    let w = worker(&url, &["-Q", "rpc_queue", "--exec", FIB]);
    rmq_url(&url)
        .args(["call", "-Q", "rpc_queue", "30"])
        .assert()
        .success()
        .stdout("832040\n");
    // Without -Q, call uses rpc_queue; the body can come from stdin.
    rmq_url(&url)
        .args(["call"])
        .write_stdin("10")
        .assert()
        .success()
        .stdout("55\n");
    let err = stop(w);
    assert!(
        err.contains("acked 2,") && err.contains("replied 2"),
        "{err}"
    );
}

#[test]
fn call_ignores_replies_with_another_correlation_id() {
    let (_, _, url) = setup("rpc-corr");
    // The server first sends a stray reply with a wrong correlation id, then the real one.
    let stray = format!(
        r#"'{}' --url '{url}' -q send --no-declare -Q "$RMQ_REPLY_TO" --correlation-id bogus wrong \
           && echo "right $RMQ_CORRELATION_ID""#,
        env!("CARGO_BIN_EXE_rmq")
    );
    let w = worker(&url, &["-Q", "rpc_queue", "--exec", &stray]);
    let out = rmq_url(&url)
        .args(["-v", "call", "x"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("right "), "{stdout}");
    let err = String::from_utf8_lossy(&out.stderr);
    // The id printed by -v is the one the reply carried.
    let id = stdout.trim().strip_prefix("right ").unwrap();
    assert!(err.contains(&format!("sent request {id}")), "{err}");
    stop(w);
}

#[test]
fn call_without_a_server_times_out_with_exit_8() {
    let (_, _, url) = setup("rpc-timeout");
    let t = Instant::now();
    let out = rmq_url(&url)
        .args(["call", "-Q", "nobody", "--timeout", "1", "hi"])
        .assert()
        .code(8)
        .get_output()
        .clone();
    assert!(t.elapsed() < Duration::from_secs(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no consumer"), "{err}");
    assert!(
        err.contains("no reply from queue 'nobody' within 1 s"),
        "{err}"
    );
}

#[test]
fn call_unroutable_request_fails_at_once() {
    let (_, _, url) = setup("rpc-noroute");
    let t = Instant::now();
    let out = rmq_url(&url)
        .args(["call", "-e", "amq.direct", "-k", "nobody", "hi"])
        .assert()
        .code(5)
        .get_output()
        .clone();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "waited for the timeout"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("exchange 'amq.direct' (routing key 'nobody')") && err.contains("unroutable"),
        "{err}"
    );
    // A queue that must exist and does not: exit 5 too, before anything is sent.
    rmq_url(&url)
        .args(["call", "-Q", "missing", "--no-declare", "hi"])
        .assert()
        .code(5);
}

#[test]
fn call_against_the_pika_tutorial_rpc_server() {
    let Some(python) = python_with_pika() else {
        return;
    };
    let (_, _, url) = setup("rpc-pika-server");
    let mut server = Command::new(python)
        .arg(fixture("rpc_server.py"))
        .args([&url, "rpc_queue", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = rmq_url(&url)
        .args(["call", "-Q", "rpc_queue", "30"])
        .assert()
        .get_output()
        .clone();
    // The server exits after one request.
    let deadline = Instant::now() + WAIT;
    let served = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            let _ = server.wait();
            panic!("pika server still running");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "832040\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(served.success(), "{served:?}");
}

#[test]
fn pika_tutorial_rpc_client_against_rmq_worker() {
    let Some(python) = python_with_pika() else {
        return;
    };
    let (_, _, url) = setup("rpc-pika-client");
    let w = worker(&url, &["-Q", "rpc_queue", "--exec", FIB]);
    let out = run_with_timeout(
        Command::new(python)
            .arg(fixture("rpc_client.py"))
            .args([&url, "rpc_queue", "30"]),
        WAIT,
    );
    assert!(out.status.success(), "{out:?} worker: {}", w.stderr());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "832040\n");
    let err = stop(w);
    assert!(err.contains("replied 1"), "{err}");
}
