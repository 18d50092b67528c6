//! `rmq move`: messages arrive unchanged, dead-letter replay puts them back where they died,
//! what cannot be moved stays in order, a loop ends, and kill -9 loses nothing.

use crate::support::{rmq_std, rmq_url, setup, stderr_of, stdout_lines};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn declare(url: &str, args: &[&str]) {
    rmq_url(url)
        .args(["queue-declare"])
        .args(args)
        .assert()
        .success();
}

/// Send NDJSON envelopes (or plain lines) to queue `q`.
fn send_lines(url: &str, q: &str, lines: &str, ndjson: bool) {
    let mode = if ndjson { "--ndjson" } else { "--lines" };
    rmq_url(url)
        .args(["-q", "send", "-Q", q, mode])
        .write_stdin(lines.to_string())
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
}

/// Take every message of `q` as JSON envelopes.
fn drain_json(url: &str, q: &str, n: usize) -> Vec<Value> {
    let mut receive = rmq_url(url);
    receive
        .args(["--json", "receive", "-Q", q, "--no-declare"])
        .args(["-n", &n.to_string(), "--timeout", "10"]);
    stdout_lines(&mut receive, Duration::from_secs(120))
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn bodies(url: &str, q: &str, n: usize) -> Vec<String> {
    drain_json(url, q, n)
        .iter()
        .map(|e| e["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// What a move must keep: properties, headers and body (not where it was published).
fn payload(e: &Value) -> Value {
    json!({"properties": e["properties"], "headers": e["headers"], "body": e["body"],
           "body_base64": e["body_base64"]})
}

fn mixed_envelope(i: usize) -> Value {
    let mut e = json!({"body": format!("message {i}"), "properties": {}});
    match i % 4 {
        0 => {
            e["properties"] = json!({"content_type": "application/json", "delivery_mode": 2,
                                      "message_id": format!("m-{i}"), "priority": 3})
        }
        1 => {
            e["headers"] = json!({"tenant": "acme", "n": i, "ok": true,
                                   "nested": {"list": [1, "two"]}})
        }
        2 => {
            e.as_object_mut().unwrap().remove("body");
            e["body_base64"] = json!("AP+A");
            e["properties"] = json!({"correlation_id": "c", "reply_to": "r", "type": "t",
                                     "timestamp": 1_700_000_000, "app_id": "app"});
        }
        _ => e["properties"] = json!({"expiration": "600000", "content_encoding": "gzip"}),
    }
    e
}

#[test]
fn move_keeps_10000_mixed_messages_byte_identical() {
    let (b, vhost, url) = setup("move_identical");
    declare(&url, &["src"]);
    declare(&url, &["dst"]);
    let input: Vec<Value> = (0..10_000).map(mixed_envelope).collect();
    let lines: String = input.iter().map(|e| format!("{e}\n")).collect();
    send_lines(&url, "src", &lines, true);
    let mut mv = rmq_url(&url);
    mv.args(["--json", "move", "--from", "src", "--to", "dst"]);
    let summary: Value =
        serde_json::from_str(&stdout_lines(&mut mv, Duration::from_secs(120)).join("\n")).unwrap();
    assert_eq!(summary["moved"], 10_000, "{summary}");
    assert_eq!(b.queue_messages(&vhost, "src"), 0);
    let moved = drain_json(&url, "dst", 10_000);
    assert_eq!(moved.len(), 10_000);
    for (sent, got) in input.iter().zip(&moved) {
        let mut want = payload(&json!({"properties": {}}));
        for k in ["properties", "headers", "body", "body_base64"] {
            if let Some(v) = sent.get(k) {
                want[k] = v.clone();
            }
        }
        assert_eq!(payload(got), want);
    }
}

#[test]
fn move_to_origin_puts_dead_lettered_messages_back_on_their_queues() {
    let (b, vhost, url) = setup("move_to_origin");
    rmq_url(&url)
        .args(["exchange-declare", "dlx", "-t", "fanout"])
        .assert()
        .success();
    declare(&url, &["dlq"]);
    rmq_url(&url)
        .args(["bind", "-Q", "dlq", "-e", "dlx"])
        .assert()
        .success();
    for q in ["orders", "invoices"] {
        declare(&url, &[q, "--dead-letter-exchange", "dlx"]);
    }
    // Real dead-lettering: every message expires at once and the broker moves it to dlq.
    for (q, n) in [("orders", 30), ("invoices", 20)] {
        let lines: String = (0..n).map(|i| format!("{q} {i}\n")).collect();
        rmq_url(&url)
            .args(["-q", "send", "-Q", q, "--lines", "--expiration", "0"])
            .write_stdin(lines)
            .assert()
            .success();
    }
    send_lines(&url, "dlq", "never dead-lettered\n", false);
    crate::support::wait_until(Duration::from_secs(20), "dead-lettering", || {
        b.queue_messages(&vhost, "dlq") == 51
    });
    let a = rmq_url(&url)
        .args(["move", "--from", "dlq", "--to-origin"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let err = stderr_of(&a);
    assert!(err.contains("moved 50 from 'dlq'"), "{err}");
    assert!(err.contains("1 skipped"), "{err}");
    let orders = bodies(&url, "orders", 30);
    assert_eq!(
        orders,
        (0..30).map(|i| format!("orders {i}")).collect::<Vec<_>>()
    );
    let invoices = bodies(&url, "invoices", 20);
    assert_eq!(
        invoices,
        (0..20).map(|i| format!("invoices {i}")).collect::<Vec<_>>()
    );
    assert_eq!(bodies(&url, "dlq", 1), ["never dead-lettered"]);
}

#[test]
fn move_to_an_unroutable_destination_exits_7_and_leaves_every_message_in_order() {
    let (_, _, url) = setup("move_unroutable");
    declare(&url, &["src"]);
    let lines: String = (0..500).map(|i| format!("{i}\n")).collect();
    send_lines(&url, "src", &lines, false);
    let a = rmq_url(&url)
        .args(["move", "--from", "src", "-e", "amq.direct", "-k", "nowhere"])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(7);
    let err = stderr_of(&a);
    assert!(err.contains("500 unroutable"), "{err}");
    assert!(err.lines().any(|l| l.contains("stayed in 'src'")), "{err}");
    let left = bodies(&url, "src", 500);
    assert_eq!(left, (0..500).map(|i| i.to_string()).collect::<Vec<_>>());
}

#[test]
fn move_missing_queues_exit_5_and_count_moves_exactly_n() {
    let (b, vhost, url) = setup("move_missing");
    declare(&url, &["src"]);
    declare(&url, &["dst"]);
    for args in [
        ["--from", "nope", "--to", "dst"],
        ["--from", "src", "--to", "nope"],
    ] {
        rmq_url(&url).args(["move"]).args(args).assert().code(5);
    }
    rmq_url(&url)
        .args(["move", "--from", "src", "-e", "nope"])
        .assert()
        .code(5);
    let lines: String = (0..100).map(|i| format!("{i}\n")).collect();
    send_lines(&url, "src", &lines, false);
    rmq_url(&url)
        .args(["move", "--from", "src", "--to", "dst", "-n", "7"])
        .assert()
        .success();
    assert_eq!(b.queue_messages(&vhost, "dst"), 7);
    assert_eq!(b.queue_messages(&vhost, "src"), 93);
    assert_eq!(
        bodies(&url, "dst", 7),
        (0..7).map(|i| i.to_string()).collect::<Vec<_>>()
    );
}

#[test]
fn move_into_a_queue_that_dead_letters_back_ends() {
    let (b, vhost, url) = setup("move_loop");
    declare(&url, &["a"]);
    // b expires everything at once back into a (default exchange, routing key a).
    declare(
        &url,
        &[
            "b",
            "--message-ttl",
            "0",
            "--dead-letter-exchange",
            "",
            "--arg",
            "x-dead-letter-routing-key=a",
        ],
    );
    let lines: String = (0..200).map(|i| format!("{i}\n")).collect();
    send_lines(&url, "a", &lines, false);
    let started = Instant::now();
    rmq_url(&url)
        .args(["move", "--from", "a", "--to", "b"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    assert!(started.elapsed() < Duration::from_secs(30));
    crate::support::wait_until(Duration::from_secs(20), "messages back in a", || {
        b.queue_messages(&vhost, "a") == 200
    });
}

#[test]
fn move_killed_at_random_moments_loses_nothing() {
    let (b, vhost, url) = setup("move_kill9");
    declare(&url, &["src"]);
    declare(&url, &["dst"]);
    const N: usize = 5_000;
    let lines: String = (0..N).map(|i| format!("{i}\n")).collect();
    send_lines(&url, "src", &lines, false);
    let mut seed = (std::process::id() as u64) << 16 | 0x9e37;
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while kills < 25 && Instant::now() < deadline {
        // Back and forth, so that every kill meets a busy move.
        let (from, to) = if kills % 2 == 0 {
            ("src", "dst")
        } else {
            ("dst", "src")
        };
        let mut child = rmq_std()
            .args(["--url", &url, "-q", "move", "--from", from, "--to", to])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(20 + seed % 300));
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        // The broker gives a dead connection's unacked messages back once it sees it gone.
        crate::support::wait_until(Duration::from_secs(20), "no consumer left", || {
            b.consumers(&vhost) == 0
        });
        let total = b.queue_messages(&vhost, "src") + b.queue_messages(&vhost, "dst");
        assert!(
            total >= N as u64,
            "after {kills} kills: {total} of {N} left"
        );
    }
    assert!(kills >= 20, "only {kills} kills");
    rmq_url(&url)
        .args(["-q", "move", "--from", "dst", "--to", "src"])
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    let total = b.queue_messages(&vhost, "src") as usize;
    let mut seen = BTreeMap::new();
    for body in bodies(&url, "src", total) {
        *seen.entry(body.parse::<usize>().unwrap()).or_insert(0) += 1;
    }
    let missing: Vec<usize> = (0..N).filter(|i| !seen.contains_key(i)).collect();
    assert!(
        missing.is_empty(),
        "lost {} messages, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let dups = total - N;
    std::io::stderr()
        .write_all(
            format!("move kill -9: {kills} kills, {N} messages, {dups} duplicates\n").as_bytes(),
        )
        .ok();
}

#[test]
fn move_with_a_filter_leaves_the_rest_in_order_and_never_twice() {
    let (b, vhost, url) = setup("move_filter");
    declare(&url, &["src"]);
    declare(&url, &["dst"]);
    // 600 messages: more held ones than a consumer's prefetch, so fresh consumers take over.
    let lines: String = (0..600)
        .map(|i| {
            let tenant = if i % 3 == 0 { "acme" } else { "other" };
            format!(
                "{}\n",
                json!({"body": i.to_string(), "headers": {"tenant": tenant}})
            )
        })
        .collect();
    send_lines(&url, "src", &lines, true);
    let a = rmq_url(&url)
        .args(["move", "--from", "src", "--to", "dst"])
        .args(["--filter", r#".headers.tenant == "acme""#])
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let err = stderr_of(&a);
    assert!(
        err.contains("moved 200") && err.contains("400 left by the filter"),
        "{err}"
    );
    assert_eq!(b.queue_messages(&vhost, "dst"), 200);
    assert_eq!(b.queue_messages(&vhost, "src"), 400);
    let moved: Vec<String> = (0..600)
        .filter(|i| i % 3 == 0)
        .map(|i| i.to_string())
        .collect();
    let stayed: Vec<String> = (0..600)
        .filter(|i| i % 3 != 0)
        .map(|i| i.to_string())
        .collect();
    assert_eq!(bodies(&url, "dst", 200), moved);
    assert_eq!(bodies(&url, "src", 400), stayed);
}
