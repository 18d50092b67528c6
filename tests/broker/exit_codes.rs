//! Every exit code (README, "Exit codes") provoked for real, with messages that name the object and fix.

use crate::support::{Broker, rmq, rmq_url, stderr_of, unique_name};

const SECRET: &str = "s3cr3t-Pa55";

#[test]
fn wrong_password_exits_4_without_printing_it() {
    let b = Broker::shared();
    let url = b
        .amqp_url("/")
        .replacen(":guest@", &format!(":{SECRET}@"), 1);
    let a = rmq_url(&url)
        .args(["send", "-Q", "x", "hi"])
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
fn send_refused_write_exits_4_without_reconnecting() {
    let (b, vhost, url) = crate::support::setup("nowrite");
    let out = b.rabbitmqctl(&["set_permissions", "-p", &vhost, "guest", ".*", "", ".*"]);
    assert!(out.status.success(), "{out:?}");
    let a = rmq_url(&url)
        .args(["send", "-Q", "nowrite", "hi"])
        .assert()
        .code(4);
    let err = stderr_of(&a);
    assert!(err.contains("ACCESS_REFUSED"), "{err}");
    // The refusal is not a lost connection: no reconnect, nothing published again.
    assert!(!err.contains("reconnect"), "{err}");
    assert!(
        err.contains("sent 1 to queue 'nowrite', confirmed 0"),
        "{err}"
    );
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
    rmq_url(&url)
        .args(["send", "-Q", "t", "first"])
        .assert()
        .success();
    let a = rmq_url(&url)
        .args(["send", "-Q", "t", "--durable", "second"])
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
    rmq_url(&url)
        .args(["send", "-e", "x", "-t", "fanout", "m"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["send", "-e", "x", "-t", "topic", "m"])
        .assert()
        .code(6);
}

#[test]
fn unroutable_message_is_reported_and_exits_7_with_strict() {
    let b = Broker::shared();
    let url = b.amqp_url(&b.vhost(&unique_name("unroutable")));
    let a = rmq_url(&url)
        .args(["send", "-e", "lonely", "-t", "direct", "-k", "k", "m"])
        .assert()
        .success();
    assert!(stderr_of(&a).contains("returned"));
    let a = rmq_url(&url)
        .args(["send", "--strict", "-e", "lonely", "-k", "k", "m"])
        .assert()
        .code(7);
    assert!(stderr_of(&a).contains("unroutable"));
}
