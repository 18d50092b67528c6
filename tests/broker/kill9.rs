//! `kill -9` at random moments: `send --lines`, `receive` and `worker -- CMD` killed over and
//! over while messages flow; every message a send run confirmed (exit 0) ends up printed by
//! a receive, processed by a worker command, or still in the queue. Duplicates are allowed
//! (at-least-once); a vanished message is a failure.

use crate::support::{assert_success, rmq_std, run_with_timeout, setup};
use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Lines per `send` run; at least this many runs, and more (up to the cap) until there were
/// [`MIN_KILLS`] kills.
const BATCH: u64 = 2_000;
const BATCHES: u64 = 30;
const MAX_BATCHES: u64 = 200;
const MIN_KILLS: u64 = 60;
/// Upper bound for the whole test's kill phase.
const KILL_PHASE: Duration = Duration::from_secs(60);

/// xorshift64*: enough randomness for kill moments, seed printed for a re-run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_4F49_1CDD_4F2D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    std::env::var("RMQ_TEST_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

/// Waits for a child, killing it after `limit` (a hung rmq fails the test, never hangs it).
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kill with SIGKILL after `after`, unless it exited; true when the kill hit a running process.
fn kill_after(child: &mut Child, after: Duration) -> bool {
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let s = child.wait().unwrap();
    s.signal() == Some(libc::SIGKILL)
}

fn out_file(dir: &Path, name: &str) -> (PathBuf, std::fs::File) {
    let p = dir.join(name);
    let f = std::fs::File::create(&p).unwrap();
    (p, f)
}

/// Complete (newline-terminated) numeric lines of a file; a line cut by the kill is not
/// counted (it was never acked).
fn numbers(path: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(path).unwrap();
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.parse()
                .unwrap_or_else(|_| panic!("{}: unexpected line {l:?}", path.display()))
        })
        .collect()
}

#[test]
fn kill_9_of_send_receive_and_worker_at_random_moments_loses_nothing() {
    let (_b, _vhost, url) = setup("kill9");
    let dir = tempfile::tempdir().unwrap();
    let seed = seed();
    eprintln!("kill -9 test: RMQ_TEST_KILL_SEED={seed}");
    let started = Instant::now();
    let deadline = started + KILL_PHASE;
    let producing = Arc::new(AtomicBool::new(true));
    let kills: Arc<Mutex<HashMap<&str, u64>>> = Arc::default();
    let outputs: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
    let resends = Arc::new(AtomicU64::new(0));

    // Declare the queue first, so consumers started before the first send find it.
    let ok = run_with_timeout(
        rmq_std().args(["--url", &url, "queue-declare", "k9"]),
        Duration::from_secs(60),
    );
    assert_success(&ok, "rmq queue-declare k9");

    let producer = {
        let (url, dir, producing, kills) = (
            url.clone(),
            dir.path().to_path_buf(),
            producing.clone(),
            kills.clone(),
        );
        let resends = resends.clone();
        std::thread::spawn(move || {
            let mut rng = Rng::new(seed);
            let mut batch = 0;
            while batch < BATCHES
                || (kills.lock().unwrap().values().sum::<u64>() < MIN_KILLS
                    && batch < MAX_BATCHES
                    && Instant::now() < deadline)
            {
                let input = dir.join(format!("in-{batch}"));
                let text: String = (1..=BATCH)
                    .map(|i| format!("{}\n", batch * BATCH + i))
                    .collect();
                std::fs::write(&input, text).unwrap();
                // Two runs in three are killed somewhere in their first ~80 ms (connect,
                // declare, mid-stream); a killed run is repeated until one ends with exit 0.
                let mut attempt = 0;
                loop {
                    let mut child = rmq_std()
                        .args(["--url", &url, "-q", "send", "-Q", "k9", "--lines"])
                        .stdin(std::fs::File::open(&input).unwrap())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .unwrap();
                    let try_kill = attempt == 0 && rng.below(3) < 2 && Instant::now() < deadline;
                    if try_kill && kill_after(&mut child, Duration::from_millis(rng.below(80))) {
                        *kills.lock().unwrap().entry("send").or_default() += 1;
                        resends.fetch_add(1, Ordering::SeqCst);
                        attempt += 1;
                        continue;
                    }
                    let s = wait_bounded(&mut child, Duration::from_secs(60), "send");
                    assert!(s.success(), "send of batch {batch} exited {s}");
                    break;
                }
                batch += 1;
                // Leave the consumers time for their kills.
                std::thread::sleep(Duration::from_millis(100));
            }
            producing.store(false, Ordering::SeqCst);
            batch
        })
    };

    // Consumers: receive and worker in turn, each killed after 50-400 ms.
    let mut rng = Rng::new(seed.rotate_left(17));
    let mut n = 0;
    while producing.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline + Duration::from_secs(60),
            "the producer did not finish"
        );
        n += 1;
        let worker = n % 2 == 0;
        let (path, file) = out_file(dir.path(), &format!("out-{n}"));
        outputs.lock().unwrap().push(path);
        let mut cmd = rmq_std();
        cmd.args(["--url", &url, "-q"]);
        if worker {
            cmd.args([
                "worker",
                "-Q",
                "k9",
                "--prefetch",
                "10",
                "--",
                "sh",
                "-c",
                "cat; echo",
            ]);
        } else {
            cmd.args(["receive", "-Q", "k9", "--prefetch", "50"]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let after = Duration::from_millis(50 + rng.below(350));
        if Instant::now() < deadline && kill_after(&mut child, after) {
            *kills
                .lock()
                .unwrap()
                .entry(if worker { "worker" } else { "receive" })
                .or_default() += 1;
        } else {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    let batches = producer.join().unwrap();

    // What is left: drain it without kills (unacked deliveries of killed consumers were
    // requeued when their connections died).
    let (rest, file) = out_file(dir.path(), "rest");
    let mut drain = rmq_std()
        .args(["--url", &url, "-q", "receive", "-Q", "k9", "--timeout", "2"])
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let s = wait_bounded(&mut drain, Duration::from_secs(120), "the final receive");
    assert!(s.success(), "final receive exited {s}");

    let mut seen: HashMap<u64, u32> = HashMap::new();
    let mut files = outputs.lock().unwrap().clone();
    files.push(rest);
    // A worker's command may outlive its killed worker by a moment: let it finish writing.
    std::thread::sleep(Duration::from_millis(200));
    for f in &files {
        for v in numbers(f) {
            *seen.entry(v).or_default() += 1;
        }
    }
    let total = BATCH * batches;
    let missing: Vec<u64> = (1..=total).filter(|i| !seen.contains_key(i)).collect();
    let delivered: u64 = seen.values().map(|&c| u64::from(c)).sum();
    let kills = kills.lock().unwrap().clone();
    let all_kills: u64 = kills.values().sum();
    eprintln!(
        "kill -9: {all_kills} kills {kills:?} in {:.1} s; published {total} (send runs repeated \
         after a kill: {}), delivered {delivered}, duplicates {}, lost {}",
        started.elapsed().as_secs_f64(),
        resends.load(Ordering::SeqCst),
        delivered - seen.len() as u64,
        missing.len()
    );
    assert!(
        missing.is_empty(),
        "{} message(s) vanished, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(
        seen.keys().all(|&v| (1..=total).contains(&v)),
        "unexpected values"
    );
    assert!(all_kills >= 50, "only {all_kills} kills: {kills:?}");
}
