//! Stream readers resuming where they stopped: `receive` on a stream prints the offset to go
//! on from (`resume with --offset N`), after a normal end and after a lost connection (exit 3),
//! and a second reader started there gets exactly the rest: no gap, no repeat, across a
//! broker restart too.

use crate::bg::Bg;
use crate::support::{Broker, rmq_std, rmq_url, setup, stderr_of, wait_output};
use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Declare stream `s` and write the lines `0..n` to it (bodies equal their offsets).
fn stream_of(url: &str, n: u32) {
    rmq_url(url)
        .args(["queue-declare", "s", "--stream"])
        .assert()
        .success();
    let lines: String = (0..n).map(|i| format!("{i}\n")).collect();
    rmq_url(url)
        .args(["-q", "send", "-Q", "s", "--lines"])
        .write_stdin(lines)
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
}

/// The offset a summary says to resume from.
fn resume_offset(stderr: &str) -> u64 {
    let rest = stderr
        .split("resume with --offset ")
        .nth(1)
        .unwrap_or_else(|| panic!("no resume offset in: {stderr}"));
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no resume offset in: {stderr}"))
}

/// Everything in the stream from `offset` on, until 3 s without a message. Right after a
/// restart the stream may still be starting (exit 3, "retry"): then again, for up to 60 s.
fn read_rest(url: &str, offset: u64) -> Vec<u64> {
    let off = offset.to_string();
    let args = ["--url", url, "receive", "-Q", "s", "--offset", &off];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut r = Bg::start(&[&args[..], &["--timeout", "3"]].concat());
        let status = r.wait(Duration::from_secs(120));
        if status.success() {
            return r.lines().iter().map(|l| l.parse().unwrap()).collect();
        }
        let err = r.stderr();
        let starting = status.code() == Some(3) && err.contains("still starting");
        assert!(starting && r.stdout().is_empty(), "{status}: {err}");
        assert!(
            Instant::now() < deadline,
            "the stream did not come back: {err}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn stream_reader_resumes_after_a_broker_restart_from_the_printed_offset() {
    let Some(b) = Broker::dedicated() else {
        return;
    };
    let url = b.amqp_url("/");
    stream_of(&url, 1000);
    let a = rmq_url(&url)
        .args(["receive", "-Q", "s", "--offset", "first", "-n", "400"])
        .assert()
        .success();
    let first: Vec<u64> = String::from_utf8_lossy(&a.get_output().stdout)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let err = stderr_of(&a);
    assert_eq!(first, (0..400).collect::<Vec<_>>());
    assert!(
        err.contains("last offset 399 (resume with --offset 400)"),
        "{err}"
    );
    b.restart();
    let rest = read_rest(&url, resume_offset(&err));
    assert_eq!(rest, (400..1000).collect::<Vec<_>>(), "a gap or a repeat");
}

#[test]
fn stream_reader_losing_its_connection_exits_3_and_prints_where_to_resume() {
    const N: u64 = 3000;
    let (b, vhost, url) = setup("stream_cut");
    stream_of(&url, N as u32);
    // stdout a pipe the test reads: a message counts as printed once read from it, so the
    // reader is mid-stream (not done) when the connection goes.
    let mut child = rmq_std()
        .args(["--url", &url, "receive", "-Q", "s", "--offset", "first"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut got: Vec<u64> = Vec::new();
    let mut line = String::new();
    while got.len() < 300 {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "receive ended early");
        got.push(line.trim().parse().unwrap());
    }
    let cut = b.rabbitmqctl(&[
        "close_all_connections",
        "--vhost",
        &vhost,
        "--limit",
        "1000",
        "test: cut",
    ]);
    assert!(cut.status.success(), "{cut:?}");
    // What is printed after the close (deliveries already on their way) counts too; read on
    // a thread, so that a receive that does not exit fails the test below instead of hanging.
    let tail = std::thread::spawn(move || {
        let mut tail = String::new();
        out.read_to_string(&mut tail).map(|_| tail)
    });
    let done = wait_output(
        child,
        Duration::from_secs(60),
        "receive after its connection was closed",
    );
    let tail = tail.join().unwrap().unwrap();
    got.extend(tail.lines().map(|l| l.parse::<u64>().unwrap()));
    let (status, err) = (
        done.status,
        String::from_utf8_lossy(&done.stderr).into_owned(),
    );
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("connection lost"), "{err}");
    let resume = resume_offset(&err);
    assert!(
        err.contains(&format!("last offset {}", resume - 1)),
        "{err}"
    );
    assert_eq!(got, (0..resume).collect::<Vec<_>>(), "{err}");
    assert!(resume < N, "read it all before the cut: {err}");
    let rest = read_rest(&url, resume);
    assert_eq!(rest, (resume..N).collect::<Vec<_>>(), "a gap or a repeat");
    eprintln!(
        "stream reader cut after {} of {N} messages: exit 3, resumed at offset {resume}, got the \
         other {} with no gap or repeat",
        got.len(),
        rest.len()
    );
}
