//! `move` under faults: a broker restart, `rabbitmqctl close_all_connections`, a silent
//! (half-open) path noticed by heartbeats, `--no-reconnect`, and 50 `kill -9`s. In every case
//! each message ends in the source or the destination; the duplicates (at-least-once) are at
//! most what move counted as possible duplicates. A proxy that slows the link keeps a move
//! of a few thousand small messages running for seconds, so each fault lands mid-run.

use crate::bg::{Bg, drain};
use crate::support::proxy::Proxy;
use crate::support::{Broker, rmq_std, rmq_url, setup, wait_until};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Messages moved by the fault tests.
const N: u64 = 5_000;
/// Bytes per second each way through the proxy: about 10 s for a move of [`N`].
const RATE: u64 = 50_000;
/// Bound for a whole move run.
const RUN: Duration = Duration::from_secs(180);

/// Declare `q` (durable, for a restart) and fill it with the lines `0..n`, persistent.
fn fill(url: &str, q: &str, n: u64) {
    rmq_url(url)
        .args(["queue-declare", q, "--durable"])
        .assert()
        .success();
    let lines: String = (0..n).map(|i| format!("{i}\n")).collect();
    rmq_url(url)
        .args(["-q", "send", "-Q", q, "-p", "--lines"])
        .write_stdin(lines)
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
}

/// `src` holding `0..N`, an empty `dst`, and a slow proxy to the broker.
fn prepare(b: &Broker, url: &str) -> Proxy {
    fill(url, "src", N);
    fill(url, "dst", 0);
    let proxy = Proxy::start(b.amqp_port());
    proxy.throttle(RATE);
    proxy
}

/// `rmq --json [global...] move --from src --to dst [extra...]` in the background.
fn start_move(global: &[&str], extra: &[&str]) -> Bg {
    let mut args = vec!["--json"];
    args.extend_from_slice(global);
    args.extend_from_slice(&["move", "--from", "src", "--to", "dst"]);
    args.extend_from_slice(extra);
    Bg::start(&args)
}

/// Wait until the move has visibly begun (the API's count lags a little: that is fine).
fn wait_mid_run(b: &Broker, vhost: &str, mv: &Bg) {
    wait_until(Duration::from_secs(60), "the move under way", || {
        assert!(mv.stdout().is_empty(), "move ended early: {}", mv.stderr());
        b.queue_info(vhost, "dst")
            .is_some_and(|q| q["messages"].as_u64().unwrap_or(0) >= 500)
    });
}

/// The move's JSON summary (stdout).
fn summary(mv: &Bg) -> Value {
    serde_json::from_str(mv.stdout().trim())
        .unwrap_or_else(|e| panic!("no JSON summary ({e}): {} {}", mv.stdout(), mv.stderr()))
}

/// Every body `0..n` is in `src` or `dst`; returns how many are there more than once.
fn all_there(src: &[u64], dst: &[u64], n: u64) -> u64 {
    let mut seen = BTreeMap::new();
    for &v in src.iter().chain(dst) {
        *seen.entry(v).or_insert(0u64) += 1;
    }
    let missing: Vec<u64> = (0..n).filter(|i| !seen.contains_key(i)).collect();
    assert!(
        missing.is_empty(),
        "{} message(s) lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(seen.keys().all(|&v| v < n), "unexpected bodies");
    (src.len() + dst.len()) as u64 - n
}

/// After a move that ended with exit 0: the source is empty, the destination has every
/// message, and no more duplicates than the summary counted. Returns (duplicates, counted).
fn check_moved(b: &Broker, vhost: &str, url: &str, mv: &Bg) -> (u64, u64) {
    let s = summary(mv);
    assert_eq!(b.queue_messages(vhost, "src"), 0, "source not empty: {s}");
    let dst = drain(url, "dst");
    let dups = all_there(&[], &dst, N);
    let counted = s["possible_duplicates"].as_u64().unwrap();
    assert!(dups <= counted, "{dups} duplicates, {counted} counted: {s}");
    assert!(s["reconnects"].as_u64().unwrap() >= 1, "{s}");
    (dups, counted)
}

/// The move's "reconnected to ... after the loss" line.
fn reconnect_note(mv: &Bg) -> String {
    let err = mv.stderr();
    let line = err.lines().find(|l| l.contains("reconnected to"));
    line.unwrap_or_default().to_string()
}

/// `rabbitmqctl close_all_connections` for one vhost (the shared broker's other tests go on).
fn close_connections(b: &Broker, vhost: &str) {
    let out = b.rabbitmqctl(&[
        "close_all_connections",
        "--vhost",
        vhost,
        "--limit",
        "1000",
        "test: cut",
    ]);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn move_through_a_broker_restart_reconnects_and_moves_everything() {
    let Some(b) = Broker::dedicated() else {
        return;
    };
    let url = b.amqp_url("/");
    let proxy = prepare(&b, &url);
    let via = proxy.url_for(&url, b.amqp_port());
    let started = Instant::now();
    let mut mv = start_move(&["--url", &via], &[]);
    wait_mid_run(&b, "/", &mv);
    let down = Instant::now();
    b.restart();
    let downtime = down.elapsed();
    assert!(mv.wait(RUN).success(), "{}", mv.stderr());
    let err = mv.stderr();
    assert!(err.contains("reconnected"), "{err}");
    let (dups, counted) = check_moved(&b, "/", &url, &mv);
    eprintln!(
        "move through a broker restart ({:.1} s down): {N} messages, duplicates {dups} (counted \
         possible {counted}), lost 0, run {:.1} s; rmq: {}",
        downtime.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        reconnect_note(&mv)
    );
}

#[test]
fn move_through_close_all_connections_reconnects_and_moves_everything() {
    let (b, vhost, url) = setup("move_cut");
    let proxy = prepare(b, &url);
    let via = proxy.url_for(&url, b.amqp_port());
    let mut mv = start_move(&["--url", &via], &[]);
    wait_mid_run(b, &vhost, &mv);
    let cut = Instant::now();
    close_connections(b, &vhost);
    wait_until(Duration::from_secs(60), "the move reconnected", || {
        mv.stderr().contains("reconnected")
    });
    let back = cut.elapsed();
    assert!(mv.wait(RUN).success(), "{}", mv.stderr());
    let (dups, counted) = check_moved(b, &vhost, &url, &mv);
    eprintln!(
        "move through close_all_connections: {N} messages, duplicates {dups} (counted possible \
         {counted}), lost 0, reconnected {:.2} s after rabbitmqctl returned; rmq: {}",
        back.as_secs_f64(),
        reconnect_note(&mv)
    );
}

#[test]
fn move_with_no_reconnect_exits_3_and_every_message_is_in_one_of_the_queues() {
    let (b, vhost, url) = setup("move_no_reconnect");
    let proxy = prepare(b, &url);
    let via = proxy.url_for(&url, b.amqp_port());
    let mut mv = start_move(&["--url", &via], &["--no-reconnect"]);
    wait_mid_run(b, &vhost, &mv);
    close_connections(b, &vhost);
    let status = mv.wait(RUN);
    let err = mv.stderr();
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("connection lost"), "{err}");
    let s = summary(&mv);
    let (src, dst) = (drain(&url, "src"), drain(&url, "dst"));
    assert!(!src.is_empty() && !dst.is_empty(), "not mid-run: {s}");
    let dups = all_there(&src, &dst, N);
    let counted = s["possible_duplicates"].as_u64().unwrap();
    assert!(dups <= counted, "{dups} duplicates, {counted} counted: {s}");
    // The summary's count of moved messages is what left the source.
    assert!(
        s["moved"].as_u64().unwrap() >= dst.len() as u64 - dups,
        "{s}"
    );
    eprintln!(
        "move --no-reconnect cut: {N} messages, {} in the source, {} at the destination, \
         duplicates {dups} (counted possible {counted})",
        src.len(),
        dst.len()
    );
}

#[test]
fn move_on_a_silent_path_notices_it_by_heartbeats_and_finishes_through_the_next_url() {
    const HEARTBEAT: u64 = 2;
    let (b, vhost, url) = setup("move_half_open");
    let proxy = prepare(b, &url);
    let via = proxy.url_for(&url, b.amqp_port());
    let hb = HEARTBEAT.to_string();
    let global = [
        "--url",
        &via,
        "--url",
        &url,
        "--heartbeat",
        &hb,
        "--connect-timeout",
        "2",
    ];
    let mut mv = start_move(&global, &[]);
    wait_mid_run(b, &vhost, &mv);
    proxy.blackhole();
    let cut = Instant::now();
    wait_until(Duration::from_secs(30), "the silent broker noticed", || {
        mv.stderr().contains("reconnecting")
    });
    let noticed = cut.elapsed();
    wait_until(Duration::from_secs(30), "the move reconnected", || {
        mv.stderr().contains("reconnected")
    });
    let reconnected = cut.elapsed();
    assert!(mv.wait(RUN).success(), "{}", mv.stderr());
    let err = mv.stderr();
    assert!(err.contains("heartbeat"), "{err}");
    // Through the second URL (the proxy's port is the first one's).
    assert!(
        err.contains(&format!(
            "reconnected to amqp://guest@127.0.0.1:{}",
            b.amqp_port()
        )),
        "{err}"
    );
    // amiquip gives up after two missed heartbeats; one more interval of slack for timing.
    assert!(
        noticed < Duration::from_secs(3 * HEARTBEAT + 1),
        "noticed after {noticed:?}"
    );
    let (dups, counted) = check_moved(b, &vhost, &url, &mv);
    eprintln!(
        "move on a silent path (heartbeat {HEARTBEAT} s): noticed after {:.2} s, reconnected \
         through the second URL after {:.2} s, {N} messages, duplicates {dups} (counted \
         possible {counted}), lost 0; rmq: {}",
        noticed.as_secs_f64(),
        reconnected.as_secs_f64(),
        reconnect_note(&mv)
    );
}

/// xorshift64: kill moments; the seed is printed for a re-run (`RMQ_TEST_KILL_SEED`).
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn move_restarted_after_50_kill_9s_loses_nothing() {
    const MESSAGES: u64 = 2_000;
    const KILLS: u64 = 50;
    let (b, vhost, url) = setup("move_kill9_loop");
    fill(&url, "src", MESSAGES);
    fill(&url, "dst", 0);
    let mut seed = std::env::var("RMQ_TEST_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::from(std::process::id()) << 20 | 0x2545)
        | 1;
    eprintln!("move kill -9 loop: RMQ_TEST_KILL_SEED={seed}");
    let started = Instant::now();
    let (mut kills, mut runs, mut finished) = (0, 0, 0);
    // The same move, restarted after each kill; once it finishes, the other way round.
    let mut from_to = ("src", "dst");
    while kills < KILLS {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "only {kills} kills in {runs} runs"
        );
        runs += 1;
        let mut child = rmq_std()
            .args([
                "--url", &url, "-q", "move", "--from", from_to.0, "--to", from_to.1,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let after = Duration::from_millis(5 + next(&mut seed) % 200);
        let deadline = Instant::now() + after;
        let mut exited = None;
        while Instant::now() < deadline && exited.is_none() {
            exited = child.try_wait().unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
        match exited {
            Some(status) => {
                assert!(status.success(), "move exited {status}");
                finished += 1;
                from_to = (from_to.1, from_to.0);
            }
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    let kill_phase = started.elapsed();
    // The broker gives a dead connection's unacked messages back once it sees it closed.
    wait_until(Duration::from_secs(30), "no consumer left", || {
        b.consumers(&vhost) == 0
    });
    let (src, dst) = (drain(&url, "src"), drain(&url, "dst"));
    let dups = all_there(&src, &dst, MESSAGES);
    eprintln!(
        "move kill -9 loop: {kills} kills in {runs} runs ({finished} finished) in {:.1} s, \
         {MESSAGES} messages, {} in the source, {} at the destination, duplicates {dups}, lost 0",
        kill_phase.as_secs_f64(),
        src.len(),
        dst.len()
    );
}
