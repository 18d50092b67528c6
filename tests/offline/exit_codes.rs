//! The exit codes (README, "Exit codes") that need no broker: a dead or silent port (3) and usage
//! errors (2, before any connect). The others are provoked in tests/broker/exit_codes.rs.

use crate::support::{rmq, stderr_of};
use crate::usage::{usage_error, usage_errors};
use std::time::{Duration, Instant};

const SECRET: &str = "s3cr3t-Pa55";

/// `rmq --url URL --connect-timeout SECS send hi`: asserts exit 3, returns how long it took
/// and its stderr.
fn send_fails_to_connect(url: &str, secs: &str) -> (Duration, String) {
    let started = Instant::now();
    let a = rmq()
        .args(["--url", url, "--connect-timeout", secs, "send", "hi"])
        .assert()
        .code(3);
    (started.elapsed(), stderr_of(&a))
}

#[test]
fn dead_port_exits_3_within_the_connect_timeout() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("amqp://guest:{SECRET}@127.0.0.1:{port}/%2f");
    let (elapsed, err) = send_fails_to_connect(&url, "2");
    assert!(elapsed < Duration::from_secs(5));
    assert!(
        err.contains(&port.to_string()) && !err.contains(SECRET),
        "{err}"
    );
}

#[test]
fn silent_port_exits_3_after_the_connect_timeout() {
    // Accepts TCP but never speaks AMQP.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (elapsed, err) = send_fails_to_connect(&format!("amqp://127.0.0.1:{port}"), "1");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
    assert!(
        err.contains("no AMQP handshake within the connect timeout"),
        "{err}"
    );
    drop(l);
}

#[test]
fn usage_errors_exit_2_before_connecting() {
    for args in usage_errors() {
        assert!(usage_error(&args).lines().count() >= 1, "{args:?}");
    }
}

#[test]
fn perf_with_nothing_to_do_is_a_usage_error() {
    rmq()
        .args(["--url", "amqp://127.0.0.1:1/", "perf", "-x", "0", "-y", "0"])
        .assert()
        .code(2);
    rmq()
        .args(["--url", "amqp://127.0.0.1:1/", "perf", "--size", "4"])
        .assert()
        .code(2);
}
