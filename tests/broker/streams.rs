//! Streams: declared with retention, read from every kind of offset (first, last, a number,
//! a time), by several readers alike; the things a stream refuses are clear errors.

use crate::support::{rmq_url, setup, stderr_of, stdout_lines};
use serde_json::Value;
use std::time::Duration;

fn send(url: &str, q: &str, range: std::ops::Range<u32>) {
    let lines: String = range.map(|i| format!("{i}\n")).collect();
    rmq_url(url)
        .args(["-q", "send", "-Q", q, "--lines"])
        .write_stdin(lines)
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
}

/// `peek` a stream from `offset`: the bodies, in order.
fn read(url: &str, q: &str, offset: &str, n: u32) -> Vec<u32> {
    let mut peek = rmq_url(url);
    peek.args(["peek", "-Q", q, "--offset", offset, "-n", &n.to_string()]);
    stdout_lines(&mut peek, Duration::from_secs(60))
        .iter()
        .map(|l| l.parse().unwrap())
        .collect()
}

#[test]
fn stream_is_declared_with_its_retention() {
    let (b, vhost, url) = setup("stream_declare");
    rmq_url(&url)
        .args(["queue-declare", "events", "--stream", "--max-age", "7D"])
        .args([
            "--max-length-bytes",
            "1000000",
            "--max-segment-size-bytes",
            "500000",
        ])
        .assert()
        .success();
    let q = b.queue_info(&vhost, "events").unwrap();
    assert_eq!(q["type"], "stream", "{q}");
    assert_eq!(q["durable"], true);
    let args = &q["arguments"];
    assert_eq!(args["x-max-age"], "7D", "{args}");
    assert_eq!(args["x-max-length-bytes"], 1_000_000);
    assert_eq!(args["x-stream-max-segment-size-bytes"], 500_000);
    rmq_url(&url)
        .args(["queue-declare", "bad", "--stream", "--max-age", "1h30m"])
        .assert()
        .code(2);
    assert!(b.queue_info(&vhost, "bad").is_none());
}

#[test]
fn stream_reads_from_first_last_a_number_and_a_time() {
    let (_, _, url) = setup("stream_offsets");
    rmq_url(&url)
        .args(["queue-declare", "s", "--stream"])
        .assert()
        .success();
    send(&url, "s", 0..1000);
    let all: Vec<u32> = (0..1000).collect();
    assert_eq!(read(&url, "s", "first", 2000), all);
    // A second reader sees the same messages: reading removes nothing.
    assert_eq!(read(&url, "s", "first", 2000), all);
    assert_eq!(
        read(&url, "s", "600", 2000),
        (600..1000).collect::<Vec<_>>()
    );
    assert_eq!(read(&url, "s", "990", 3), [990, 991, 992]);
    // `last` starts at the last chunk: its messages, ending with the last one.
    let last = read(&url, "s", "last", 2000);
    assert!(!last.is_empty() && last.len() < 1000, "{last:?}");
    assert_eq!(last.last(), Some(&999));
    assert_eq!(read(&url, "s", "next", 10), Vec::<u32>::new());
    // A time: chunks written from then on (the older batch is over a second before).
    std::thread::sleep(Duration::from_millis(2100));
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::thread::sleep(Duration::from_millis(1100));
    send(&url, "s", 1000..1100);
    let when = jiff::Timestamp::from_second(since as i64)
        .unwrap()
        .to_string();
    assert_eq!(
        read(&url, "s", &when, 2000),
        (1000..1100).collect::<Vec<_>>()
    );
    assert_eq!(read(&url, "s", "1h", 2000).len(), 1100);
}

#[test]
fn stream_envelope_carries_the_offset_and_purge_is_refused() {
    let (_, _, url) = setup("stream_envelope");
    rmq_url(&url)
        .args(["queue-declare", "s", "--stream"])
        .assert()
        .success();
    send(&url, "s", 0..3);
    let out = rmq_url(&url)
        .args(["--json", "peek", "-Q", "s", "--offset", "1", "-n", "2"])
        .output()
        .unwrap();
    let envs: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let offsets: Vec<&Value> = envs.iter().map(|e| &e["offset"]).collect();
    assert_eq!(offsets, [1, 2]);
    let a = rmq_url(&url)
        .args(["queue-purge", "s", "--yes"])
        .assert()
        .code(6);
    let err = stderr_of(&a);
    assert!(err.contains("stream"), "{err}");
    assert_eq!(read(&url, "s", "first", 10), [0, 1, 2]);
}

#[test]
fn offset_on_a_queue_that_is_not_a_stream_exits_2_naming_its_type() {
    let (b, vhost, url) = setup("stream_not_a_stream");
    for (q, flags) in [
        ("classic", &["--durable"][..]),
        ("quorum", &["--quorum"][..]),
    ] {
        rmq_url(&url)
            .args(["queue-declare", q])
            .args(flags)
            .assert()
            .success();
        let a = rmq_url(&url)
            .args(["peek", "-Q", q, "--offset", "first"])
            .assert()
            .code(2);
        let err = stderr_of(&a);
        assert!(err.contains(&format!("is a {q} queue")), "{err}");
        let q = b.queue_info(&vhost, q).unwrap();
        assert_ne!(q["type"], "stream", "the check must not change the queue");
    }
}

#[test]
fn receive_reads_a_stream_from_an_offset_and_names_where_to_resume() {
    let (_, _, url) = setup("stream_receive");
    rmq_url(&url)
        .args(["queue-declare", "s", "--stream"])
        .assert()
        .success();
    send(&url, "s", 0..1000);
    let receive = |args: &[&str]| {
        let out = rmq_url(&url)
            .args(["receive", "-Q", "s"])
            .args(args)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let bodies: Vec<u32> = String::from_utf8(out.stdout.clone())
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        (out, bodies)
    };
    let (out, all) = receive(&["--offset", "first", "-n", "1000"]);
    assert!(out.status.success());
    assert_eq!(all, (0..1000).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("last offset 999 (resume with --offset 1000)"),
        "{err}"
    );
    // Exactly the messages from the offset on, then --timeout ends it (no --count: exit 0).
    let (out, tail) = receive(&["--offset", "990", "--timeout", "2"]);
    assert!(out.status.success());
    assert_eq!(tail, (990..1000).collect::<Vec<_>>());
    // A stream refuses auto-ack: a usage error, not a lost connection.
    let (out, _) = receive(&["--offset", "first", "--no-ack", "--timeout", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("drop --no-ack"));
}
