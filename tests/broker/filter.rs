//! `peek --filter EXPR` against a real broker: only matching messages are shown, in order,
//! `-n` counts matches, and the queue keeps every message in its order. Parsing and usage
//! errors are tested in src/filter.rs and tests/offline/filter.rs.

use crate::support::{Broker, rmq, unique_name};
use serde_json::{Value, json};

/// (routing key, tenant header, body) of the messages each test publishes, in order.
const MESSAGES: &[(&str, Option<&str>, &str)] = &[
    ("eu.new", Some("acme"), r#"{"id":1,"amount":150}"#),
    ("us.new", Some("acme"), r#"{"id":2,"amount":50}"#),
    ("eu.paid", Some("other"), "3 is not json"),
    ("eu.new", None, r#"{"id":4,"amount":101}"#),
    ("ap.new", Some("acme"), r#"{"id":5,"amount":500}"#),
    ("eu.x", Some("acme"), r#"{"id":6,"amount":100}"#),
    ("us.x", None, "7 plain"),
    ("euro.y", Some("acme"), r#"{"id":8,"amount":1000}"#),
];

/// A vhost with a topic exchange `orders` bound to queue `o` with `#`, holding MESSAGES.
fn setup(name: &str) -> (&'static Broker, String, String) {
    let b = Broker::shared();
    let vh = b.vhost(&unique_name(name));
    let url = b.amqp_url(&vh);
    for args in [
        vec!["exchange-declare", "orders", "-t", "topic"],
        vec!["queue-declare", "o"],
        vec!["bind", "-Q", "o", "-e", "orders", "-k", "#"],
    ] {
        rmq().arg("--url").arg(&url).args(&args).assert().success();
    }
    let mut ndjson = String::new();
    for (rk, tenant, body) in MESSAGES {
        let mut e = json!({"exchange": "orders", "routing_key": rk, "body": body});
        if let Some(t) = tenant {
            e["headers"] = json!({"tenant": t});
        }
        ndjson.push_str(&format!("{e}\n"));
    }
    rmq()
        .args(["--url", &url, "send", "--ndjson", "--strict"])
        .write_stdin(ndjson)
        .assert()
        .success();
    assert_eq!(b.queue_messages(&vh, "o"), MESSAGES.len() as u64);
    (b, vh, url)
}

/// The bodies of MESSAGES with these 1-based ids, one per line.
fn bodies(ids: &[usize]) -> String {
    ids.iter()
        .map(|i| format!("{}\n", MESSAGES[i - 1].2))
        .collect()
}

/// `rmq -v peek -Q o ARGS...` (-v prints the summary): its stdout and stderr.
fn peek(url: &str, args: &[&str]) -> (String, String) {
    let out = rmq()
        .args(["--url", url, "-v", "peek", "-Q", "o"])
        .args(args)
        .assert()
        .success()
        .get_output()
        .clone();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn peek_filter_shows_only_matching_messages_in_order_and_keeps_them_all() {
    let (b, vh, url) = setup("filter");
    for (expr, ids) in [
        (r#".routing_key | startswith("eu.")"#, &[1, 3, 4, 6][..]),
        (r#".headers.tenant == "acme""#, &[1, 2, 5, 6, 8]),
        ("(.body | fromjson? | .amount) > 100", &[1, 4, 5, 8]),
        (r#".routing_key == "nowhere""#, &[]),
    ] {
        let (stdout, stderr) = peek(&url, &["--filter", expr]);
        assert_eq!(stdout, bodies(ids), "{expr}");
        let summary = format!("showed {} of {} message(s)", ids.len(), MESSAGES.len());
        assert!(stderr.contains(&summary), "{expr}: {stderr}");
        assert_eq!(b.queue_messages(&vh, "o"), MESSAGES.len() as u64, "{expr}");
    }
    // Every message is still there, in its order.
    let all: Vec<usize> = (1..=MESSAGES.len()).collect();
    assert_eq!(peek(&url, &["-n", "100"]).0, bodies(&all));
    rmq()
        .args(["--url", &url, "receive", "-Q", "o", "-n", "8"])
        .assert()
        .success()
        .stdout(bodies(&all));
}

#[test]
fn peek_filter_count_counts_matching_messages_and_stops_reading() {
    let (b, vh, url) = setup("filter-n");
    let expr = "(.body | fromjson? | .amount) > 100";
    let (stdout, stderr) = peek(&url, &["-n", "2", "--filter", expr]);
    assert_eq!(stdout, bodies(&[1, 4]));
    // It read up to the second match (message 4), not the whole queue.
    assert!(stderr.contains("showed 2 of 4 message(s)"), "{stderr}");
    assert_eq!(b.queue_messages(&vh, "o"), MESSAGES.len() as u64);
    // --json prints the envelopes of the matches: the filter saw the same objects.
    let (stdout, _) = peek(
        &url,
        &["--json", "--filter", r#".routing_key | startswith("eu.")"#],
    );
    let keys: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|e| {
            assert_eq!(e["exchange"], "orders");
            e["routing_key"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(keys, ["eu.new", "eu.paid", "eu.new", "eu.x"]);
    let all: Vec<usize> = (1..=MESSAGES.len()).collect();
    assert_eq!(peek(&url, &["-n", "100"]).0, bodies(&all));
}

#[test]
fn receive_subscription_with_a_filter_prints_only_the_matching_messages() {
    let (_, _, url) = crate::support::setup("filter_receive_e");
    crate::support::rmq_url(&url)
        .args(["exchange-declare", "orders", "-t", "topic"])
        .assert()
        .success();
    let child = crate::support::rmq_std()
        .args([
            "--url", &url, "receive", "-e", "orders", "-b", "#", "-n", "2",
        ])
        .args([
            "--filter",
            ".routing_key | startswith(\"eu.\")",
            "--timeout",
            "20",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The subscriber's queue exists once it is bound; then publish.
    std::thread::sleep(std::time::Duration::from_secs(2));
    for (key, body) in [
        ("us.new", "a"),
        ("eu.new", "b"),
        ("asia.x", "c"),
        ("eu.old", "d"),
    ] {
        crate::support::rmq_url(&url)
            .args(["send", "-e", "orders", "-k", key, body])
            .assert()
            .success();
    }
    let out = crate::support::wait_output(
        child,
        std::time::Duration::from_secs(30),
        "receive -e --filter",
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "b\nd\n");
}
