//! `send`, `receive` and `peek` against a real broker: tutorial 1, stdin modes, envelopes,
//! acks, Ctrl-C and closed pipes.

use crate::bg::Bg;
use crate::support::{rmq, rmq_url, setup, wait_until};
use serde_json::Value;
use std::time::Duration;

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn hello_world_send_then_receive_prints_the_body() {
    let (b, vh, url) = setup("hello");
    rmq_url(&url)
        .args(["send", "-Q", "hello", "Hello", "World!"])
        .assert()
        .success();
    assert_eq!(b.queue_messages(&vh, "hello"), 1);
    rmq_url(&url)
        .args(["receive", "-Q", "hello", "-n", "1"])
        .assert()
        .success()
        .stdout("Hello World!\n");
    assert_eq!(b.queue_messages(&vh, "hello"), 0);
}

#[test]
fn without_queue_flag_send_and_receive_use_task_queue() {
    let (b, vh, url) = setup("default-q");
    rmq_url(&url).args(["send", "hello..."]).assert().success();
    assert_eq!(b.queue_messages(&vh, "task_queue"), 1);
    rmq_url(&url)
        .args(["receive", "-n", "1"])
        .assert()
        .success()
        .stdout("hello...\n");
    // RMQ_QUEUE changes the default.
    rmq()
        .env("RMQ_QUEUE", "other")
        .args(["--url", &url, "send", "x"])
        .assert()
        .success();
    assert_eq!(b.queue_messages(&vh, "other"), 1);
}

#[test]
fn send_lines_makes_one_message_per_line_including_empty_and_unterminated() {
    let (_b, _vh, url) = setup("lines");
    rmq_url(&url)
        .args(["send", "-Q", "l", "--lines"])
        .write_stdin("a\n\nb c\nlast")
        .assert()
        .success();
    let out = rmq_url(&url)
        .args(["receive", "-Q", "l", "--json", "--timeout", "1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let bodies: Vec<String> = json_lines(&out)
        .iter()
        .map(|v| v["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bodies, ["a", "", "b c", "last"]);
}

#[test]
fn send_without_body_sends_all_of_stdin_as_one_message() {
    let (b, vh, url) = setup("whole");
    rmq_url(&url)
        .args(["send", "-Q", "w"])
        .write_stdin("line1\nline2\n")
        .assert()
        .success();
    assert_eq!(b.queue_messages(&vh, "w"), 1);
    rmq_url(&url)
        .args(["receive", "-Q", "w", "-n", "1"])
        .assert()
        .success()
        .stdout("line1\nline2\n\n");
}

/// A 1 MiB body read from a file, sent 40 times durable and persistent: the large-message
/// tuning (a small frame queue, a larger unconfirmed window) confirms every copy, intact.
#[test]
fn large_body_from_a_file_repeated_is_confirmed_whole() {
    let (b, vh, url) = setup("large");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("body");
    let body: Vec<u8> = (0..1u32 << 20).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &body).unwrap();
    let mut send = Bg::start_with_stdin(
        &[
            "--url",
            &url,
            "send",
            "-Q",
            "big",
            "--durable",
            "-p",
            "--repeat",
            "40",
        ],
        std::fs::File::open(&path).unwrap(),
    );
    let status = send.wait(Duration::from_secs(60));
    let err = send.stderr();
    assert!(status.success(), "{err}");
    assert!(
        err.contains("sent 40 to queue 'big', confirmed 40"),
        "{err}"
    );
    assert_eq!(b.queue_messages(&vh, "big"), 40);
    let out = rmq_url(&url)
        .args(["receive", "-Q", "big", "-n", "40"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), 40 * (body.len() + 1));
    for copy in out.stdout.chunks(body.len() + 1) {
        assert!(copy[..body.len()] == body[..], "a copy changed on the way");
    }
}

#[test]
fn receive_json_envelope_carries_properties_and_typed_headers() {
    let (_b, _vh, url) = setup("envelope");
    rmq_url(&url)
        .args([
            "send",
            "-Q",
            "e",
            "-p",
            "-H",
            "n=42",
            "-H",
            "flag=true",
            "-H",
            "s=text",
            "--content-type",
            "text/plain",
            "--correlation-id",
            "c1",
            "--reply-to",
            "r",
            "--message-id",
            "m1",
            "--expiration",
            "60000",
            "--priority",
            "3",
            "body",
        ])
        .assert()
        .success();
    let out = rmq_url(&url)
        .args(["--json", "receive", "-Q", "e", "-n", "1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = &json_lines(&out)[0];
    assert_eq!(v["exchange"], "");
    assert_eq!(v["routing_key"], "e");
    assert_eq!(v["redelivered"], false);
    assert_eq!(v["body"], "body");
    let p = &v["properties"];
    assert_eq!(p["delivery_mode"], 2);
    assert_eq!(p["content_type"], "text/plain");
    assert_eq!(p["correlation_id"], "c1");
    assert_eq!(p["reply_to"], "r");
    assert_eq!(p["message_id"], "m1");
    assert_eq!(p["expiration"], "60000");
    assert_eq!(p["priority"], 3);
    assert_eq!(v["headers"]["n"], 42);
    assert_eq!(v["headers"]["flag"], true);
    assert_eq!(v["headers"]["s"], "text");
}

#[test]
fn binary_message_round_trips_byte_for_byte_through_json_and_ndjson() {
    let (_b, _vh, url) = setup("binary");
    let body: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    rmq_url(&url)
        .args([
            "send",
            "-Q",
            "src",
            "-H",
            "k=v",
            "-H",
            "n=-7",
            "--message-id",
            "id-1",
            "-p",
        ])
        .write_stdin(body.clone())
        .assert()
        .success();
    let dump = rmq_url(&url)
        .args(["receive", "-Q", "src", "--json", "-n", "1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let first = &json_lines(&dump)[0];
    assert!(first.get("body_base64").is_some(), "{first}");
    rmq_url(&url)
        .args(["send", "--ndjson", "-Q", "dst"])
        .write_stdin(dump.clone())
        .assert()
        .success();
    let again = rmq_url(&url)
        .args(["receive", "-Q", "dst", "--json", "-n", "1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let second = &json_lines(&again)[0];
    assert_eq!(first["body_base64"], second["body_base64"]);
    assert_eq!(first["properties"], second["properties"]);
    assert_eq!(first["headers"], second["headers"]);
    // And the raw bytes come out exactly (plus the newline receive adds).
    rmq_url(&url)
        .args(["send", "-Q", "raw"])
        .write_stdin(body.clone())
        .assert()
        .success();
    let raw = rmq_url(&url)
        .args(["receive", "-Q", "raw", "-n", "1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(&raw[..raw.len() - 1], &body[..]);
}

#[test]
fn ndjson_without_target_replays_to_the_routing_key_in_each_envelope() {
    let (b, vh, url) = setup("replay");
    rmq_url(&url)
        .args(["send", "-Q", "orig", "one"])
        .assert()
        .success();
    let dump = rmq_url(&url)
        .args(["receive", "-Q", "orig", "--json", "-n", "1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    rmq_url(&url)
        .args(["send", "--ndjson"])
        .write_stdin(dump)
        .assert()
        .success();
    assert_eq!(b.queue_messages(&vh, "orig"), 1);
}

#[test]
fn ndjson_bad_line_names_it_and_sends_nothing_after() {
    let (b, vh, url) = setup("badline");
    let input =
        "{\"body\":\"1\"}\n{\"body\":\"2\"}\n{\"body\":\"3\"}\n{\"body\":\n{\"body\":\"5\"}\n";
    let a = rmq_url(&url)
        .args(["send", "--ndjson", "-Q", "q"])
        .write_stdin(input)
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("confirmed 3"), "{err}");
    assert_eq!(b.queue_messages(&vh, "q"), 3);
}

#[test]
fn peek_shows_messages_and_leaves_them_in_the_queue() {
    let (b, vh, url) = setup("peek");
    rmq_url(&url)
        .args(["send", "-Q", "p", "--lines"])
        .write_stdin("m1\nm2\nm3\n")
        .assert()
        .success();
    rmq_url(&url)
        .args(["peek", "-Q", "p", "-n", "2"])
        .assert()
        .success()
        .stdout("m1\nm2\n");
    assert_eq!(b.queue_messages(&vh, "p"), 3);
    // Order is kept after the peek.
    rmq_url(&url)
        .args(["receive", "-Q", "p", "-n", "3"])
        .assert()
        .success()
        .stdout("m1\nm2\nm3\n");
    rmq_url(&url)
        .args(["peek", "-Q", "missing"])
        .assert()
        .code(5);
}

#[test]
fn receive_count_not_reached_before_timeout_exits_8() {
    let (_b, _vh, url) = setup("count");
    rmq_url(&url)
        .args(["send", "-Q", "c", "only"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["receive", "-Q", "c", "-n", "2", "--timeout", "1"])
        .assert()
        .code(8)
        .stdout("only\n");
    rmq_url(&url)
        .args(["receive", "-Q", "c", "--timeout", "0.5"])
        .assert()
        .success()
        .stdout("");
}

#[test]
fn receive_no_ack_with_count_takes_exactly_count() {
    let (b, vh, url) = setup("noack");
    rmq_url(&url)
        .args(["send", "-Q", "n", "--lines"])
        .write_stdin("1\n2\n3\n4\n5\n")
        .assert()
        .success();
    rmq_url(&url)
        .args(["receive", "-Q", "n", "--no-ack", "-n", "2"])
        .assert()
        .success()
        .stdout("1\n2\n");
    assert_eq!(b.queue_messages(&vh, "n"), 3);
}

#[test]
fn receive_into_head_consumes_one_and_requeues_the_rest() {
    let (b, vh, url) = setup("head");
    rmq_url(&url)
        .args(["send", "-Q", "h", "--lines"])
        .write_stdin((1..=50).map(|i| format!("{i}\n")).collect::<String>())
        .assert()
        .success();
    let script = format!(
        "'{}' --url '{url}' receive -Q h --timeout 3 | head -1",
        crate::support::rmq_bin().display()
    );
    let out = crate::support::run_with_timeout(
        std::process::Command::new("sh").args(["-c", &script]),
        Duration::from_secs(30),
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(b.queue_messages(&vh, "h"), 49);
}

#[test]
fn receive_ctrl_c_loses_nothing_printed_plus_queued_equals_sent() {
    let (b, vh, url) = setup("ctrlc");
    let sent = 300;
    rmq_url(&url)
        .args(["send", "-Q", "k", "--lines"])
        .write_stdin((1..=sent).map(|i| format!("{i}\n")).collect::<String>())
        .assert()
        .success();
    // A slow reader: prefetch 10 and a timeout long enough that only the signal stops it.
    let mut r = Bg::start(&["--url", &url, "receive", "-Q", "k", "--prefetch", "10"]);
    wait_until(Duration::from_secs(20), "first messages printed", || {
        r.lines().len() >= 20
    });
    r.signal(libc::SIGINT);
    let status = r.wait(Duration::from_secs(20));
    assert!(status.success(), "{status:?} {}", r.stderr());
    let printed = r.lines();
    let mut seen: Vec<u32> = printed.iter().map(|l| l.parse().unwrap()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), printed.len(), "duplicates printed");
    let queued = b.queue_messages(&vh, "k");
    assert_eq!(
        printed.len() as u64 + queued,
        sent,
        "printed + queued != sent"
    );
    assert!(r.stderr().contains("received"), "{}", r.stderr());
}

#[test]
fn existing_queue_with_arguments_is_used_as_it_is() {
    let (b, vh, url) = setup("existing");
    b.api_put(
        &format!("/api/queues/{}/dlxq", crate::support::pct_encode(&vh)),
        &serde_json::json!({"durable": true, "arguments": {"x-dead-letter-exchange": "dlx", "x-max-length": 100}}),
    );
    rmq_url(&url)
        .args(["send", "-Q", "dlxq", "m"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["send", "-Q", "dlxq", "--durable", "m2"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["receive", "-Q", "dlxq", "-n", "2"])
        .assert()
        .success()
        .stdout("m\nm2\n");
}

#[test]
fn repeat_sends_the_message_n_times() {
    let (b, vh, url) = setup("repeat");
    rmq_url(&url)
        .args(["send", "-Q", "r", "--repeat", "25", "x"])
        .assert()
        .success();
    assert_eq!(b.queue_messages(&vh, "r"), 25);
}

#[test]
fn send_no_confirm_still_delivers() {
    let (b, vh, url) = setup("noconfirm");
    rmq_url(&url)
        .args(["send", "-Q", "nc", "--lines", "--no-confirm"])
        .write_stdin((1..=1000).map(|i| format!("{i}\n")).collect::<String>())
        .assert()
        .success();
    assert_eq!(b.queue_messages(&vh, "nc"), 1000);
}

#[test]
fn send_to_a_missing_queue_declares_it_and_delivers_each_message_once() {
    // The first message finds out that the queue is missing (returned unroutable): it is
    // published again after the declare, and counted once.
    let (b, vh, url) = setup("probe");
    let out = rmq_url(&url)
        .args(["send", "-Q", "fresh", "--repeat", "3", "x"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("sent 3 to queue 'fresh', confirmed 3, returned 0"),
        "{err}"
    );
    assert_eq!(b.queue_messages(&vh, "fresh"), 3);
    rmq_url(&url)
        .args(["send", "-Q", "fresh2", "--lines"])
        .write_stdin("a\nb\n")
        .assert()
        .success();
    rmq_url(&url)
        .args(["receive", "-Q", "fresh2", "-n", "2"])
        .assert()
        .success()
        .stdout("a\nb\n");
}

#[test]
fn send_reaches_a_queue_exclusive_to_another_connection() {
    // A pub/sub receiver's server-named queue, as a reply would address it.
    let (b, vh, url) = setup("exclusive");
    let mut r = Bg::start(&[
        "--url",
        &url,
        "receive",
        "-e",
        "px",
        "-t",
        "fanout",
        "-n",
        "1",
        "--timeout",
        "20",
    ]);
    let path = format!("/api/queues/{}", crate::support::pct_encode(&vh));
    let mut queue = String::new();
    wait_until(Duration::from_secs(20), "the receiver's queue", || {
        let listed = b.api_get(&path);
        match listed.as_array().and_then(|a| a.first()) {
            Some(q) => {
                queue = q["name"].as_str().unwrap_or_default().to_string();
                true
            }
            None => false,
        }
    });
    rmq_url(&url)
        .args(["send", "-Q", &queue, "direct reply"])
        .assert()
        .success();
    assert!(r.wait(Duration::from_secs(30)).success(), "{}", r.stderr());
    assert_eq!(r.lines(), ["direct reply"]);
}
