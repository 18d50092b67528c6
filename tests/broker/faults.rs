//! `send` through a cut connection: nothing lost with reconnects, an exact resume point without.

use crate::bg::{Bg, drain};
use crate::support::{Broker, rmq_std, wait_until};
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

const N: u64 = 100_000;

/// `rmq send -Q QUEUE --durable -p --lines` with stdin a pipe for the caller to feed.
fn start_send(
    url: &str,
    queue: &str,
    extra: &[&str],
) -> (std::process::Child, std::process::ChildStdin) {
    let mut child = rmq_std()
        .args([
            "--url",
            url,
            "send",
            "-Q",
            queue,
            "--durable",
            "-p",
            "--lines",
        ])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    (child, stdin)
}

/// Start `rmq send --lines` on a pipe fed from a thread: lines 1..=N/2, then the rest once
/// `gate` is set, so a cut always lands mid-stream however fast the machine is.
fn spawn_send_gated(
    url: &str,
    queue: &str,
    extra: &[&str],
) -> (
    std::process::Child,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let gate = std::sync::Arc::new(AtomicBool::new(false));
    let (child, mut stdin) = start_send(url, queue, extra);
    let open = gate.clone();
    std::thread::spawn(move || {
        let lines: Vec<u64> = (1..=N).collect();
        for (i, chunk) in lines.chunks(5_000).enumerate() {
            if i as u64 * 5_000 == N / 2 {
                let deadline = Instant::now() + Duration::from_secs(60);
                while !open.load(Ordering::SeqCst) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let text: String = chunk.iter().map(|i| format!("{i}\n")).collect();
            if stdin.write_all(text.as_bytes()).is_err() {
                return;
            }
        }
    });
    (child, gate)
}

/// Start `rmq send --lines` fed from a thread with lines `1..=n`, about `per_tick` lines
/// every 20 ms.
fn spawn_send_n(
    url: &str,
    queue: &str,
    extra: &[&str],
    n: u64,
    per_tick: usize,
) -> std::process::Child {
    let (child, mut stdin) = start_send(url, queue, extra);
    std::thread::spawn(move || {
        for chunk in (1..=n).collect::<Vec<_>>().chunks(per_tick) {
            let text: String = chunk.iter().map(|i| format!("{i}\n")).collect();
            if stdin.write_all(text.as_bytes()).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    child
}

fn wait_child(child: &mut std::process::Child, timeout: Duration) -> (i32, String) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (s.code().unwrap_or(-1), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("send did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn send_through_close_all_connections_loses_nothing() {
    let Some(b) = Broker::dedicated() else {
        return;
    };
    let url = b.amqp_url("/");
    let (mut send, gate) = spawn_send_gated(&url, "cut", &[]);
    wait_until(Duration::from_secs(30), "some messages queued", || {
        b.queue_messages("/", "cut") > 10_000
    });
    let out = b.rabbitmqctl(&["close_all_connections", "test: cut"]);
    assert!(out.status.success());
    gate.store(true, std::sync::atomic::Ordering::SeqCst);
    let (code, err) = wait_child(&mut send, Duration::from_secs(120));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("reconnected"), "{err}");
    let mut got = drain(&url, "cut");
    let total = got.len() as u64;
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len() as u64, N, "missing messages");
    assert_eq!(got.first(), Some(&1));
    assert_eq!(got.last(), Some(&N));
    eprintln!(
        "close_all_connections: sent {N}, in queue {total}, duplicates {}, lost 0; {}",
        total - N,
        err.lines().last().unwrap_or("")
    );
}

#[test]
fn send_no_reconnect_exits_3_and_says_how_many_were_confirmed() {
    let Some(b) = Broker::dedicated() else {
        return;
    };
    let url = b.amqp_url("/");
    let (mut send, gate) = spawn_send_gated(&url, "cut2", &["--no-reconnect"]);
    wait_until(Duration::from_secs(30), "some messages queued", || {
        b.queue_messages("/", "cut2") > 10_000
    });
    b.rabbitmqctl(&["close_all_connections", "test: cut"]);
    gate.store(true, std::sync::atomic::Ordering::SeqCst);
    let (code, err) = wait_child(&mut send, Duration::from_secs(60));
    assert_eq!(code, 3, "{err}");
    let confirmed: u64 = err
        .split("confirmed ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no 'confirmed N' in: {err}"));
    let got = drain(&url, "cut2");
    // Every line up to N is in the queue: resuming from N+1 loses nothing.
    let mut sorted = got.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert!(confirmed > 0 && confirmed < N, "{confirmed}");
    assert!(
        (1..=confirmed).all(|i| sorted.binary_search(&i).is_ok()),
        "a confirmed line is missing"
    );
}

/// Lines for the restart test: `RMQ_TEST_RESTART_N` (e.g. 200000 for a manual measurement),
/// else 60k (a few seconds of publishing on CI).
fn restart_n() -> u64 {
    std::env::var("RMQ_TEST_RESTART_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60_000)
}

/// Counts of a drained queue: total, distinct, and whether every line 1..=n is there.
fn check_all_there(got: &[u64], n: u64) -> (u64, u64) {
    let mut sorted = got.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let missing: Vec<u64> = (1..=n)
        .filter(|i| sorted.binary_search(i).is_err())
        .take(10)
        .collect();
    assert!(
        missing.is_empty(),
        "lines missing from the queue: {missing:?}..."
    );
    assert_eq!(sorted.len() as u64, n, "unexpected lines in the queue");
    (got.len() as u64, got.len() as u64 - n)
}

#[test]
fn send_through_a_broker_restart_loses_nothing() {
    let Some(b) = Broker::dedicated() else {
        return;
    };
    let n = restart_n();
    let url = b.amqp_url("/");
    let started = Instant::now();
    // ~5,000 lines/s: the stream is still going when the node is back (~10 s later).
    let mut send = spawn_send_n(&url, "restart", &["--auto-message-id"], n, 100);
    wait_until(Duration::from_secs(30), "some messages queued", || {
        b.queue_messages("/", "restart") > 10_000
    });
    let down = Instant::now();
    b.restart();
    let downtime = down.elapsed();
    let (code, err) = wait_child(&mut send, Duration::from_secs(180));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("reconnected"), "{err}");
    let summary = err.lines().last().unwrap_or("").to_string();
    assert!(summary.contains(&format!("sent {n}")), "{err}");
    let resent: u64 = summary
        .split("re-sent ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut r = Bg::start(&[
        "--url",
        &url,
        "--json",
        "receive",
        "-Q",
        "restart",
        "--timeout",
        "2",
    ]);
    assert!(r.wait(Duration::from_secs(120)).success(), "{}", r.stderr());
    // --auto-message-id: a re-sent message carries the id of its first copy (RUN-<line>),
    // so a consumer can drop the duplicates by id.
    let mut run = None;
    let got: Vec<u64> = r
        .lines()
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let body: u64 = v["body"].as_str().unwrap().parse().unwrap();
            let id = v["properties"]["message_id"].as_str().unwrap().to_string();
            let (r, seq) = id.rsplit_once('-').unwrap();
            assert_eq!(seq, body.to_string(), "{id} for line {body}");
            assert_eq!(run.get_or_insert(r.to_string()), r, "one run id");
            body
        })
        .collect();
    let (total, dups) = check_all_there(&got, n);
    eprintln!(
        "broker restart ({:.1} s down): sent {n} lines, re-sent {resent}, in queue {total}, \
         duplicates {dups}, lost 0, whole run {:.1} s; rmq said: {summary}",
        downtime.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn send_lists_several_brokers_skips_a_dead_one_and_fails_over_when_its_node_stops() {
    let Some(a) = Broker::dedicated() else {
        return;
    };
    let Some(b) = Broker::dedicated() else {
        return;
    };
    let (url_a, url_b) = (a.amqp_url("/"), b.amqp_url("/"));
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!(
            "amqp://guest:guest@127.0.0.1:{}/",
            l.local_addr().unwrap().port()
        )
    };

    // The first URL is dead: the second is used (repeated --url, and comma-separated RMQ_URL).
    let out = crate::support::rmq()
        .args([
            "--url", &dead, "--url", &url_b, "-v", "send", "-Q", "first", "x",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "connected to amqp://guest@127.0.0.1:{}",
            b.amqp_port()
        )),
        "{err}"
    );
    crate::support::rmq()
        .env("RMQ_URL", format!("{dead},{url_b}"))
        .args(["send", "-Q", "first", "y"])
        .assert()
        .success();
    assert_eq!(b.queue_messages("/", "first"), 2);

    // Publishing to A when A stops: reconnect goes on to B, nothing is lost.
    let n = 30_000;
    let urls = format!("{url_a},{url_b}");
    let mut send = rmq_std()
        .env("RMQ_URL", &urls)
        .args(["send", "-Q", "over", "--durable", "-p", "--lines"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = send.stdin.take().unwrap();
    std::thread::spawn(move || {
        for chunk in (1..=n).collect::<Vec<u64>>().chunks(100) {
            let text: String = chunk.iter().map(|i| format!("{i}\n")).collect();
            if stdin.write_all(text.as_bytes()).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    wait_until(Duration::from_secs(30), "messages on A", || {
        a.queue_messages("/", "over") > 5_000
    });
    a.stop();
    let (code, err) = wait_child(&mut send, Duration::from_secs(120));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "reconnected to amqp://guest@127.0.0.1:{}",
            b.amqp_port()
        )),
        "{err}"
    );
    // A's durable queue and persistent messages come back with A.
    a.start();
    let mut got = drain(&url_a, "over");
    let on_a = got.len();
    got.extend(drain(&url_b, "over"));
    let (total, dups) = check_all_there(&got, n);
    eprintln!(
        "failover A->B: sent {n}, on A {on_a}, on B {}, duplicates {dups}, lost 0; {}",
        total as usize - on_a,
        err.lines().last().unwrap_or("")
    );
}

/// A 3-node cluster with quorum queues: a sender and a worker listing all three nodes go on
/// through the node they are connected to stopping; the queue holds every line and the
/// worker processes every message. About a minute (three boots, two joins);
/// `RMQ_TEST_CLUSTER=0` skips it.
#[test]
fn send_to_a_quorum_queue_fails_over_inside_a_3_node_cluster() {
    if std::env::var("RMQ_TEST_CLUSTER").as_deref() == Ok("0") {
        crate::support::skip("RMQ_TEST_CLUSTER=0");
        return;
    }
    let Some(nodes) = Broker::dedicated_cluster(3) else {
        return;
    };
    let started = Instant::now();
    let urls: Vec<String> = nodes.iter().map(|b| b.amqp_url("/")).collect();
    for q in ["qq", "wq"] {
        crate::support::rmq()
            .args(["--url", &urls[0], "queue-declare", q, "--quorum"])
            .assert()
            .success();
    }
    // A worker listing all three nodes: it connects to the first, which is stopped below.
    let mut worker = Bg::start(&[
        "--url",
        &urls[0],
        "--url",
        &urls[1],
        "--url",
        &urls[2],
        "worker",
        "-Q",
        "wq",
        "--dot-delay",
        "0",
    ]);
    // A quorum queue nacks while its leader is being elected (exit 7): publish again then.
    let publish = |url: &str, from: u64, to: u64| {
        for attempt in 1..=10 {
            let out = crate::support::rmq()
                .args(["--url", url, "send", "-Q", "wq", "-p", "--lines"])
                .write_stdin((from..=to).map(|i| format!("{i}\n")).collect::<String>())
                .output()
                .unwrap();
            match out.status.code() {
                Some(0) => return,
                Some(7) if attempt < 10 => std::thread::sleep(Duration::from_secs(1)),
                _ => panic!("send: {}", String::from_utf8_lossy(&out.stderr)),
            }
        }
    };
    let processed = |w: &Bg| {
        let mut done: Vec<String> = w
            .lines()
            .iter()
            .filter_map(|l| l.strip_prefix(" [x] Received ").map(str::to_string))
            .collect();
        done.sort();
        done.dedup();
        done.len()
    };
    publish(&urls[1], 1, 100);
    wait_until(Duration::from_secs(60), "worker took the first 100", || {
        processed(&worker) >= 100
    });
    let n = 30_000;
    let mut send = rmq_std()
        .env("RMQ_URL", urls.join(","))
        .args(["send", "-Q", "qq", "-p", "--lines"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = send.stdin.take().unwrap();
    std::thread::spawn(move || {
        for chunk in (1..=n).collect::<Vec<u64>>().chunks(100) {
            let text: String = chunk.iter().map(|i| format!("{i}\n")).collect();
            if stdin.write_all(text.as_bytes()).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    wait_until(
        Duration::from_secs(60),
        "messages in the quorum queue",
        || nodes[1].queue_messages("/", "qq") > 5_000,
    );
    nodes[0].stop();
    // The worker carries on through another node: messages published after the stop arrive.
    publish(&urls[2], 101, 200);
    wait_until(
        Duration::from_secs(90),
        "worker took all 200 after the failover",
        || processed(&worker) >= 200,
    );
    worker.signal(libc::SIGTERM);
    assert!(
        worker.wait(Duration::from_secs(30)).success(),
        "{}",
        worker.stderr()
    );
    let (code, err) = wait_child(&mut send, Duration::from_secs(120));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("reconnected"), "{err}");
    let got = drain(&urls[1], "qq");
    let (total, dups) = check_all_there(&got, n);
    eprintln!(
        "3-node cluster, quorum queue, publishing node stopped: sent {n}, in queue {total}, \
         duplicates {dups}, lost 0, {:.1} s; {}",
        started.elapsed().as_secs_f64(),
        err.lines().last().unwrap_or("")
    );
}
