//! Half-open connections: a path that stops forwarding without closing (a NAT timeout, a
//! dead peer), made by a proxy that blackholes both directions. Heartbeats must notice it.

use crate::support::proxy::Proxy;
use crate::support::{rmq_std, rmq_url, setup, wait_until};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Heartbeat for these tests: short, so that detection (about 2x) is quick.
const HEARTBEAT: u64 = 2;

#[test]
fn receive_on_a_silent_broker_exits_3_within_twice_the_heartbeat() {
    let (b, vhost, url) = setup("half_open_receive");
    let proxy = Proxy::start(b.amqp_port());
    let via = proxy.url_for(&url, b.amqp_port());
    rmq_url(&url)
        .args(["queue-declare", "q"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["send", "-Q", "q", "one"])
        .assert()
        .success();
    let out_file = tempfile::NamedTempFile::new().unwrap();
    let mut child = rmq_std()
        .args(["--url", &via, "--heartbeat", &HEARTBEAT.to_string()])
        .args(["receive", "-Q", "q"])
        // A file, not a pipe: receive acks a message only once a pipe's reader took it.
        .stdout(out_file.reopen().unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(20), "the message delivered", || {
        b.queue_info(&vhost, "q")
            .is_some_and(|q| q["consumers"].as_u64() == Some(1))
    });
    std::thread::sleep(Duration::from_millis(500));
    proxy.blackhole();
    let cut = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if cut.elapsed() > Duration::from_secs(30) {
            child.kill().ok();
            let out = child.wait_with_output().unwrap();
            panic!(
                "receive did not notice the silent broker within 30 s: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let noticed = cut.elapsed();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(3), "{err}");
    assert_eq!(std::fs::read_to_string(out_file.path()).unwrap(), "one\n");
    assert!(err.contains("received 1 message"), "{err}");
    assert!(err.contains("heartbeat"), "{err}");
    // amiquip gives up after two missed heartbeats; one more interval of slack for timing.
    assert!(
        noticed < Duration::from_secs(3 * HEARTBEAT + 1),
        "noticed after {noticed:?}"
    );
    eprintln!("half-open: receive noticed the silent broker after {noticed:?}");
}

#[test]
fn worker_on_a_silent_path_reconnects_through_the_next_url_and_finishes_the_queue() {
    let (b, vhost, url) = setup("half_open_worker");
    let proxy = Proxy::start(b.amqp_port());
    let via = proxy.url_for(&url, b.amqp_port());
    rmq_url(&url)
        .args(["queue-declare", "jobs"])
        .assert()
        .success();
    let lines: String = (0..40).map(|i| format!("{i}\n")).collect();
    rmq_url(&url)
        .args(["send", "-Q", "jobs", "--lines"])
        .write_stdin(lines)
        .assert()
        .success();
    let d = tempfile::tempdir().unwrap();
    let runs = d.path().join("runs");
    let script = format!(
        "echo \"$(cat) $RMQ_REDELIVERED\" >> '{}'; sleep 0.1",
        runs.display()
    );
    let w = crate::bg::Bg::start(&[
        "--url",
        &via,
        "--url",
        &url,
        "--heartbeat",
        &HEARTBEAT.to_string(),
        "--connect-timeout",
        "2",
        "worker",
        "-Q",
        "jobs",
        "--exec",
        &script,
    ]);
    wait_until(Duration::from_secs(30), "a few tasks done", || {
        std::fs::read_to_string(&runs).is_ok_and(|r| r.lines().count() >= 5)
    });
    proxy.blackhole();
    let cut = Instant::now();
    wait_until(Duration::from_secs(60), "the queue worked off", || {
        b.queue_messages(&vhost, "jobs") == 0
    });
    let took = cut.elapsed();
    let err = crate::worker::stop(w);
    let runs = std::fs::read_to_string(&runs).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for l in runs.lines() {
        let (body, redelivered) = l.split_once(' ').unwrap();
        let e = seen.entry(body.parse::<u32>().unwrap()).or_insert((0, 0));
        e.0 += 1;
        if redelivered == "true" {
            e.1 += 1;
        }
    }
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (0..40).collect::<Vec<_>>()
    );
    // A task runs twice only when its first verdict was lost with the connection: the
    // broker then redelivers it, flagged.
    let twice: Vec<_> = seen.iter().filter(|(_, (n, _))| *n > 1).collect();
    assert!(
        twice.iter().all(|(_, (n, r))| *n == 2 && *r == 1),
        "{twice:?} {err}"
    );
    assert!(err.contains("reconnected"), "{err}");
    eprintln!(
        "half-open: worker finished 40 tasks {took:?} after the cut, {} run twice",
        twice.len()
    );
}

/// A child killed and reaped when the test ends, however it ends.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.0.kill().ok();
            self.0.wait().ok();
        }
    }
}

/// Lines, each with the time it arrived.
type TimedLines = std::sync::Arc<std::sync::Mutex<Vec<(Instant, String)>>>;

/// Stderr lines of a child as they come, and the thread reading them.
fn timed_lines(
    pipe: impl std::io::Read + Send + 'static,
) -> (TimedLines, std::thread::JoinHandle<()>) {
    use std::io::BufRead;
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = lines.clone();
    let t = std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
            l.lock().unwrap().push((Instant::now(), line));
        }
    });
    (lines, t)
}

#[test]
fn a_long_send_on_a_silent_path_reconnects_through_the_next_url_and_every_line_arrives() {
    use std::io::Write;
    const BEFORE: u32 = 20;
    const AFTER: u32 = 40;
    let (b, vhost, url) = setup("half_open_send");
    let proxy = Proxy::start(b.amqp_port());
    let via = proxy.url_for(&url, b.amqp_port());
    rmq_url(&url)
        .args(["queue-declare", "lines"])
        .assert()
        .success();
    let mut child = Reaped(
        rmq_std()
            .args(["--url", &via, "--url", &url])
            .args([
                "--heartbeat",
                &HEARTBEAT.to_string(),
                "--connect-timeout",
                "2",
            ])
            .args(["send", "-Q", "lines", "--lines"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (err_lines, err_reader) = timed_lines(child.0.stderr.take().unwrap());
    let mut stdin = child.0.stdin.take().unwrap();
    let stderr_text = |l: &std::sync::Mutex<Vec<(Instant, String)>>| {
        l.lock()
            .unwrap()
            .iter()
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    // A slow feed: a line every 50 ms, as from `tail -f`.
    for i in 0..BEFORE {
        writeln!(stdin, "{i}").unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_until(Duration::from_secs(20), "the first lines queued", || {
        b.queue_messages(&vhost, "lines") == u64::from(BEFORE)
    });
    proxy.blackhole();
    let cut = Instant::now();
    // A few lines into the dead path (the first may still slip through the proxy), then
    // nothing more until send has noticed by itself: it must not need the next line to find
    // out that its connection is gone.
    for i in BEFORE..BEFORE + 3 {
        writeln!(stdin, "{i}").unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    let waited = Instant::now();
    while !stderr_text(&err_lines).contains("reconnected") {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "send did not reconnect by itself while its input was silent: {}",
            stderr_text(&err_lines)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for i in BEFORE + 3..BEFORE + AFTER {
        writeln!(stdin, "{i}").unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "send did not finish: {}",
            stderr_text(&err_lines)
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    err_reader.join().unwrap();
    let err = stderr_text(&err_lines);
    assert!(status.success(), "{status}: {err}");
    let lost_at = err_lines
        .lock()
        .unwrap()
        .iter()
        .find(|(_, l)| l.contains("connection lost"))
        .map(|(t, _)| *t)
        .unwrap_or_else(|| panic!("no 'connection lost' warning: {err}"));
    let noticed = lost_at - cut;
    assert!(err.contains("heartbeat"), "{err}");
    // amiquip gives up after two missed heartbeats; one more interval of slack for timing.
    assert!(
        noticed < Duration::from_secs(3 * HEARTBEAT + 1),
        "noticed after {noticed:?}: {err}"
    );
    let resent: u64 = err
        .split("re-sent ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no re-sent count in the summary: {err}"));
    let total = BEFORE + AFTER;
    let queued = b.queue_messages(&vhost, "lines");
    let bodies = crate::support::stdout_lines(
        rmq_url(&url).args(["receive", "-Q", "lines", "-n", &queued.to_string()]),
        Duration::from_secs(30),
    );
    let mut seen = std::collections::BTreeMap::new();
    for body in &bodies {
        *seen.entry(body.parse::<u32>().unwrap()).or_insert(0u64) += 1;
    }
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (0..total).collect::<Vec<_>>(),
        "{err}"
    );
    let duplicates: u64 = seen.values().map(|n| n - 1).sum();
    assert!(
        duplicates <= resent,
        "{duplicates} duplicates, {resent} re-sent: {err}"
    );
    eprintln!(
        "half-open: send noticed the silent broker after {noticed:?}; {total} lines, {} \
         messages queued, {resent} re-sent, {duplicates} duplicates",
        bodies.len()
    );
}
