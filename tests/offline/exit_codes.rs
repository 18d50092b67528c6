//! The exit codes of CLI.md that need no broker: a dead or silent port (3) and usage
//! errors (2, before any connect). The others are provoked in tests/broker/exit_codes.rs.

use crate::support::{rmq, stderr_of};
use std::time::{Duration, Instant};

const SECRET: &str = "s3cr3t-Pa55";

#[test]
fn dead_port_exits_3_within_the_connect_timeout() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let a = rmq()
        .args([
            "--url",
            &format!("amqp://guest:{SECRET}@127.0.0.1:{port}/%2f"),
            "--connect-timeout",
            "2",
            "send",
            "hi",
        ])
        .assert()
        .code(3);
    assert!(started.elapsed() < Duration::from_secs(5));
    let err = stderr_of(&a);
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
    let started = Instant::now();
    let a = rmq()
        .args([
            "--url",
            &format!("amqp://127.0.0.1:{port}"),
            "--connect-timeout",
            "1",
            "send",
            "hi",
        ])
        .assert()
        .code(3);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
    let err = stderr_of(&a);
    assert!(
        err.contains("no AMQP handshake within the connect timeout"),
        "{err}"
    );
    drop(l);
}

#[test]
fn usage_errors_exit_2_before_connecting() {
    for args in [
        vec!["send", "-Q", "a", "-e", "b", "x"],
        vec!["send", "--lines", "body"],
        vec!["receive", "-n", "0"],
        vec!["send", "-H", "novalue", "x"],
        vec!["send", "--priority", "300", "x"],
        vec!["--url", "http://localhost/", "send", "x"],
        vec!["--url", "amqp://h:70000/", "send", "x"],
        vec!["--url", "amqp://h/?frob=1", "send", "x"],
        vec!["--connect-timeout", "-1", "send", "x"],
        vec!["bogus-command"],
    ] {
        let a = rmq().args(&args).assert().code(2);
        assert!(stderr_of(&a).lines().count() >= 1, "{args:?}");
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
