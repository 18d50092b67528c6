//! Bad input that reaches a broker, case by case: a bad NDJSON line stops the stream with an
//! error naming its line, after every earlier line was confirmed and before anything later
//! was sent; names and messages the broker would refuse are refused with a clear error.

use crate::support::{Broker, rmq, rmq_url, setup};
use std::io::Write;
use std::time::Duration;

fn long(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// Bad third lines of an NDJSON stream, and what the error must say.
fn bad_lines() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let big_header = format!(
        r#"{{"body":"x","headers":{{"a":"{}","b":"{}"}}}}"#,
        long('v', 70_000),
        long('v', 70_000)
    );
    vec![
        ("truncated", br#"{"body":"x""#.to_vec(), "not valid JSON"),
        ("not an object", b"[1,2]".to_vec(), "expected a JSON object"),
        ("empty line", b"".to_vec(), "not valid JSON"),
        (
            "not UTF-8",
            b"{\"body\":\"\xff\"}".to_vec(),
            "not valid JSON",
        ),
        (
            "bad base64",
            br#"{"body_base64":"!!!"}"#.to_vec(),
            "not valid base64",
        ),
        (
            "body a number",
            br#"{"body":1}"#.to_vec(),
            "'body' must be a string",
        ),
        (
            "exchange a number",
            br#"{"body":"x","exchange":5}"#.to_vec(),
            "'exchange' must be a string",
        ),
        (
            "priority 300",
            br#"{"body":"x","properties":{"priority":300}}"#.to_vec(),
            "properties.priority",
        ),
        (
            "delivery mode 3",
            br#"{"body":"x","properties":{"delivery_mode":3}}"#.to_vec(),
            "properties.delivery_mode",
        ),
        (
            "negative expiration",
            br#"{"body":"x","properties":{"expiration":"-5"}}"#.to_vec(),
            "expiration '-5'",
        ),
        (
            "negative timestamp",
            br#"{"body":"x","properties":{"timestamp":-1}}"#.to_vec(),
            "properties.timestamp",
        ),
        (
            "message id over 255 bytes",
            format!(
                r#"{{"body":"x","properties":{{"message_id":"{}"}}}}"#,
                long('m', 300)
            )
            .into_bytes(),
            "longer than 255 bytes",
        ),
        (
            "header name over 255 bytes",
            format!(r#"{{"body":"x","headers":{{"{}":1}}}}"#, long('h', 300)).into_bytes(),
            "header name",
        ),
        (
            "headers over a frame",
            big_header.into_bytes(),
            "the headers take",
        ),
        (
            "body and body_base64",
            br#"{"body":"x","body_base64":"eA=="}"#.to_vec(),
            "not both",
        ),
        (
            "unknown field",
            br#"{"body":"x","bdy":"y"}"#.to_vec(),
            "unknown field 'bdy'",
        ),
        (
            "huge header integer",
            br#"{"body":"x","headers":{"n":18446744073709551615}}"#.to_vec(),
            "too large",
        ),
    ]
}

#[test]
fn ndjson_bad_lines_stop_the_stream_after_confirming_what_came_before() {
    let (b, vhost, url) = setup("bad-ndjson");
    let mut failures = Vec::new();
    for (i, (name, bad, want)) in bad_lines().into_iter().enumerate() {
        let q = format!("bad-{i}");
        let mut input = Vec::new();
        input.extend_from_slice(b"{\"body\":\"one\"}\n{\"body\":\"two\"}\n");
        input.extend_from_slice(&bad);
        input.extend_from_slice(b"\n{\"body\":\"four\"}\n");
        let out = rmq_url(&url)
            .args(["send", "-Q", &q, "--ndjson"])
            .write_stdin(input)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let in_queue = b.queue_messages(&vhost, &q);
        let problems = [
            (out.status.code() != Some(1), "exit code is not 1"),
            (!err.contains("stdin line 3: "), "no line number"),
            (!err.contains(want), "does not say what is wrong"),
            (
                !err.contains("confirmed 2"),
                "does not report the 2 confirmed",
            ),
            (
                in_queue != 2,
                "queue does not hold exactly the 2 lines before",
            ),
            (err.lines().count() > 3, "more than summary + 2 lines"),
            (err.contains("panicked"), "panic"),
            (err.len() > 800, "error longer than 800 bytes"),
        ];
        for (bad, what) in problems {
            if bad {
                failures.push(format!(
                    "{name}: {what} (exit {:?}, {in_queue} queued):\n{err}",
                    out.status.code()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn names_over_255_bytes_are_refused_by_every_messaging_command() {
    let (_b, _vhost, url) = setup("bad-names");
    let q300 = long('q', 300);
    for args in [
        vec!["receive", "-Q", &q300, "-n", "1"],
        vec!["peek", "-Q", &q300],
        vec!["worker", "-Q", &q300, "--", "cat"],
        vec!["call", "-Q", &q300, "x", "--timeout", "1"],
        vec!["queue-purge", "-y", &q300],
        vec!["receive", "-e", &q300],
    ] {
        let out = rmq()
            .args(["--url", &url])
            .args(&args)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{:?}: {err}", &args[..1]);
        assert!(err.contains("255"), "{:?}: {err}", &args[..1]);
        assert!(err.lines().count() <= 2, "{:?}: {err}", &args[..1]);
    }
}

#[test]
fn a_line_over_128_mib_is_refused_without_reading_on() {
    let (b, vhost, url) = setup("bad-long-line");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(b"one\n").unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..129 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\nthree\n").unwrap();
    }
    let out = rmq_url(&url)
        .args(["send", "-Q", "long", "--lines"])
        .pipe_stdin(&path)
        .unwrap()
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("stdin line 2 is longer than 128 MiB"), "{err}");
    assert!(err.contains("confirmed 1"), "{err}");
    assert_eq!(b.queue_messages(&vhost, "long"), 1);
}

#[test]
fn a_message_over_the_brokers_max_size_names_it_and_stops() {
    // A node whose max_message_size is 1 MiB (the default is 128 MiB): same code path,
    // smaller data.
    let Some(b) = Broker::dedicated_with("max_message_size = 1048576", &[]) else {
        return;
    };
    let url = b.amqp_url("/");
    // --lines: line 2 is 2 MB.
    let mut input = b"one\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 2_000_000));
    input.extend_from_slice(b"\nthree\n");
    let out = rmq_url(&url)
        .args(["send", "-Q", "max", "--lines"])
        .write_stdin(input)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("message 2 (stdin line 2)"), "{err}");
    assert!(err.contains("larger than configured max size"), "{err}");
    assert!(err.contains("max_message_size"), "{err}");
    assert!(err.contains("confirmed 1"), "{err}");
    assert_eq!(b.queue_messages("/", "max"), 1);
    // --ndjson: a 100 MB line.
    let mut input = b"{\"body\":\"one\"}\n{\"body\":\"".to_vec();
    input.extend(std::iter::repeat_n(b'y', 100_000_000));
    input.extend_from_slice(b"\"}\n{\"body\":\"three\"}\n");
    let out = rmq_url(&url)
        .args(["send", "-Q", "max2", "--ndjson"])
        .write_stdin(input)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("message 2 (stdin line 2)"), "{err}");
    assert!(err.contains("confirmed 1"), "{err}");
    assert_eq!(b.queue_messages("/", "max2"), 1);
}
