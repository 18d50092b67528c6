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
