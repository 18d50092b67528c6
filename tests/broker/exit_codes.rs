//! Every exit code of CLI.md provoked for real, with messages that name the object and fix.

use crate::support::{Broker, rmq, unique_name};
use std::time::{Duration, Instant};

const SECRET: &str = "s3cr3t-Pa55";

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

#[test]
fn wrong_password_exits_4_without_printing_it() {
    let b = Broker::shared();
    let url = b
        .amqp_url("/")
        .replacen(":guest@", &format!(":{SECRET}@"), 1);
    let a = rmq()
        .args(["--url", &url, "send", "-Q", "x", "hi"])
        .assert()
        .code(4);
    let err = stderr_of(&a);
    assert!(err.contains("guest"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
    assert!(err.lines().count() <= 2, "{err}");
    let a = rmq()
        .env("RMQ_PASSWORD", SECRET)
        .args([
            "--url",
            &b.amqp_url("/"),
            "-v",
            "receive",
            "-Q",
            "x",
            "-n",
            "1",
        ])
        .assert()
        .code(4);
    assert!(!stderr_of(&a).contains(SECRET));
}

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
fn missing_exchange_and_vhost_exit_5() {
    let b = Broker::shared();
    let vh = b.vhost(&unique_name("nf"));
    let a = rmq()
        .args([
            "--url",
            &b.amqp_url(&vh),
            "send",
            "-e",
            "nope",
            "-k",
            "k",
            "hi",
        ])
        .assert()
        .code(5);
    let err = stderr_of(&a);
    assert!(err.contains("exchange 'nope'"), "{err}");
    rmq()
        .args(["--url", &b.amqp_url("no-such-vhost"), "send", "hi"])
        .assert()
        .code(5);
    rmq()
        .args([
            "--url",
            &b.amqp_url(&vh),
            "receive",
            "-Q",
            "nq",
            "--no-declare",
            "-n",
            "1",
        ])
        .assert()
        .code(5);
}

#[test]
fn durable_flag_on_a_transient_queue_exits_6_naming_both_values() {
    let b = Broker::shared();
    let url = b.amqp_url(&b.vhost(&unique_name("pre")));
    rmq()
        .args(["--url", &url, "send", "-Q", "t", "first"])
        .assert()
        .success();
    let a = rmq()
        .args(["--url", &url, "send", "-Q", "t", "--durable", "second"])
        .assert()
        .code(6);
    let err = stderr_of(&a);
    assert!(err.contains("queue 't'"), "{err}");
    assert!(
        err.contains("durable=false") && err.contains("durable=true"),
        "{err}"
    );
    assert!(err.contains("rmq queue-delete t"), "{err}");
    // An exchange of another type is a contradiction too.
    rmq()
        .args(["--url", &url, "send", "-e", "x", "-t", "fanout", "m"])
        .assert()
        .success();
    rmq()
        .args(["--url", &url, "send", "-e", "x", "-t", "topic", "m"])
        .assert()
        .code(6);
}

#[test]
fn unroutable_message_is_reported_and_exits_7_with_strict() {
    let b = Broker::shared();
    let url = b.amqp_url(&b.vhost(&unique_name("unroutable")));
    let a = rmq()
        .args([
            "--url", &url, "send", "-e", "lonely", "-t", "direct", "-k", "k", "m",
        ])
        .assert()
        .success();
    assert!(stderr_of(&a).contains("returned"));
    let a = rmq()
        .args([
            "--url", &url, "send", "--strict", "-e", "lonely", "-k", "k", "m",
        ])
        .assert()
        .code(7);
    assert!(stderr_of(&a).contains("unroutable"));
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
