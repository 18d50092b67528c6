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
    let via = url.replacen(
        &format!(":{}/", b.amqp_port()),
        &format!(":{}/", proxy.port()),
        1,
    );
    assert_ne!(via, url);
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
