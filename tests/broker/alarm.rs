//! `send` while the broker blocks publishers (memory alarm, on a dedicated node): it says so,
//! `--timeout` bounds the wait even when a publish itself is stuck, and it finishes once
//! the alarm clears.

use crate::bg::Bg;
use crate::support::{Broker, assert_success, wait_until};
use std::io::Write;
use std::time::{Duration, Instant};

const PHRASE: &str = "broker blocked publishing: memory alarm";

fn input_file(name: &str, lines: u64, line_len: usize) -> std::fs::File {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rmq-alarm");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-{}", std::process::id()));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 1..=lines {
        let pad = line_len.saturating_sub(i.to_string().len());
        writeln!(f, "{i}{}", "x".repeat(pad)).unwrap();
    }
    f.into_inner().unwrap().sync_all().unwrap();
    let file = std::fs::File::open(&path).unwrap();
    // The open file stays readable; nothing is left behind on disk.
    std::fs::remove_file(&path).unwrap();
    file
}

fn set_watermark(b: &Broker, w: &str) {
    let out = b.rabbitmqctl(&["set_vm_memory_high_watermark", w]);
    assert_success(&out, "rabbitmqctl set_vm_memory_high_watermark");
}

/// Runs `rmq send` with `--timeout 2` while the alarm is on: exit 8 within a few seconds,
/// with the phrase on stderr.
fn assert_bounded(url: &str, what: &str, args: &[&str], stdin: std::fs::File) {
    let mut all = vec!["--url", url, "send"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--timeout", "2"]);
    let started = Instant::now();
    let mut p = Bg::start_with_stdin(&all, stdin);
    let status = p.wait(Duration::from_secs(30));
    let took = started.elapsed();
    let err = p.stderr();
    assert_eq!(status.code(), Some(8), "{what}: {err}");
    assert!(err.contains(PHRASE), "{what}: {err}");
    assert!(err.contains("timed out"), "{what}: {err}");
    assert!(err.contains("rmq: sent "), "{what}: no summary: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    // 2 s of --timeout, plus the watchdog's tick and the connection set-up.
    assert!(
        took < Duration::from_secs(6),
        "{what}: took {took:?}: {err}"
    );
    eprintln!("{what}: exit 8 after {:.1} s", took.as_secs_f64());
}

#[test]
fn send_under_a_memory_alarm_says_so_honours_timeout_and_finishes_when_it_clears() {
    let Some(b) = Broker::dedicated() else {
        return;
    };
    let url = b.amqp_url("/");
    set_watermark(&b, "0.000001");

    // A stream of small lines: the confirm window fills, the loop itself times out.
    assert_bounded(
        &url,
        "100k lines",
        &["-Q", "alarm-a", "--lines"],
        input_file("small", 100_000, 8),
    );
    // Without confirms nothing limits what is written: publishing itself blocks once the
    // socket's buffers are full, and only the watchdog can end it.
    assert_bounded(
        &url,
        "100k lines --no-confirm",
        &["-Q", "alarm-b", "--lines", "--no-confirm"],
        input_file("small", 100_000, 8),
    );
    // One large message blocks inside the very first publish.
    assert_bounded(
        &url,
        "one 20 MB message",
        &["-Q", "alarm-c"],
        input_file("large", 1, 20 << 20),
    );

    // No --timeout: it waits, says why, and finishes once the alarm clears.
    let n = 20_000;
    let mut p = Bg::start_with_stdin(
        &["--url", &url, "send", "-Q", "alarm-d", "--lines"],
        input_file("wait", n, 8),
    );
    wait_until(Duration::from_secs(30), "the blocked notice", || {
        p.stderr().contains(PHRASE)
    });
    std::thread::sleep(Duration::from_secs(1));
    set_watermark(&b, "0.4");
    let status = p.wait(Duration::from_secs(60));
    let err = p.stderr();
    assert!(status.success(), "{err}");
    assert!(err.contains("broker unblocked publishing"), "{err}");
    assert!(
        err.contains(&format!("sent {n} to queue 'alarm-d', confirmed {n}")),
        "{err}"
    );
    assert_eq!(b.queue_messages("/", "alarm-d"), n);
}
