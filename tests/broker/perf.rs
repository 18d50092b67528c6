//! `rmq perf`: short load runs against the shared broker, each in its own vhost.

use crate::bg::Bg;
use crate::support::{rmq, setup, wait_until};
use serde_json::Value;
use std::time::Duration;

fn perf_json(url: &str, args: &[&str]) -> Value {
    let mut all = vec!["--url", url, "--json", "perf"];
    all.extend_from_slice(args);
    let out = rmq()
        .args(&all)
        .timeout(Duration::from_secs(90))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "rmq perf {args:?}: {stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn ms(v: &Value, key: &str) -> f64 {
    v["latency_ms"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("no latency {key}: {v}"))
}

#[test]
fn perf_persistent_confirmed_run_counts_add_up_and_latencies_are_sane() {
    let (b, vh, url) = setup("perf-counts");
    let v = perf_json(
        &url,
        &[
            "-Q",
            "pq",
            "--producers",
            "2",
            "--consumers",
            "2",
            "--pmessages",
            "1500",
            "--confirm",
            "100",
            "--persistent",
            "--size",
            "200",
        ],
    );
    assert_eq!(v["sent"], 3000, "{v}");
    assert_eq!(v["confirmed"], 3000, "{v}");
    assert_eq!(v["nacked"], 0, "{v}");
    assert_eq!(v["received"], 3000, "{v}");
    assert_eq!(v["latency_ms"]["count"], 3000, "{v}");
    let (min, p50, p95, p99, max) = (
        ms(&v, "min"),
        ms(&v, "p50"),
        ms(&v, "p95"),
        ms(&v, "p99"),
        ms(&v, "max"),
    );
    assert!(0.0 < min && min <= p50, "{v}");
    assert!(p50 <= p95 && p95 <= p99 && p99 <= max, "{v}");
    assert!(max < 30_000.0, "latency of more than 30 s: {v}");
    // Everything sent was consumed and acked; the queue was declared durable.
    assert_eq!(b.queue_messages(&vh, "pq"), 0);
    let q = b.queue_info(&vh, "pq").expect("queue pq");
    assert_eq!(q["durable"], true, "{q}");
}

#[test]
fn perf_rate_limit_holds_within_5_percent() {
    let (_b, _vh, url) = setup("perf-rate");
    // Two producers at 150 msg/s each for 4 s: 1,200 messages.
    let v = perf_json(
        &url,
        &[
            "-Q", "rq", "-x", "2", "-y", "1", "--rate", "150", "--time", "4",
        ],
    );
    let sent = v["sent"].as_f64().unwrap();
    assert!(
        (sent - 1200.0).abs() <= 0.05 * 1200.0,
        "sent {sent}, want 1200 +-5%: {v}"
    );
    let rate = v["rate"]["sent"].as_f64().unwrap();
    assert!((rate - 300.0).abs() <= 0.05 * 300.0, "rate {rate}: {v}");
    assert_eq!(v["received"], v["sent"], "{v}");
    // Unhurried messages wait for nobody: a low latency.
    assert!(ms(&v, "p50") < 1000.0, "{v}");
}

#[test]
fn perf_only_producers_fill_the_queue_and_only_consumers_drain_it() {
    let (b, vh, url) = setup("perf-split");
    let v = perf_json(&url, &["-Q", "sq", "-y", "0", "--pmessages", "500"]);
    assert_eq!(v["sent"], 500, "{v}");
    assert_eq!(v["received"], 0, "{v}");
    wait_until(Duration::from_secs(10), "500 messages queued", || {
        b.queue_messages(&vh, "sq") == 500
    });
    let v = perf_json(&url, &["-Q", "sq", "-x", "0", "-y", "1", "--time", "2"]);
    assert_eq!(v["received"], 500, "{v}");
    assert_eq!(b.queue_messages(&vh, "sq"), 0);
}

#[test]
fn perf_prints_a_line_per_second_and_ctrl_c_prints_the_summary() {
    let (_b, _vh, url) = setup("perf-ctrlc");
    let mut p = Bg::start(&["--url", &url, "perf", "-Q", "cq", "--rate", "200"]);
    wait_until(Duration::from_secs(20), "two per-second lines", || {
        p.stderr().matches("received").count() >= 2
    });
    p.signal(libc::SIGINT);
    let status = p.wait(Duration::from_secs(20));
    assert!(status.success(), "{status:?}: {}", p.stderr());
    let out = p.stdout();
    assert!(out.contains("(interrupted)"), "{out}");
    for word in ["sent", "received", "latency ms", "p50", "p99"] {
        assert!(out.contains(word), "summary lacks {word}: {out}");
    }
    let err = p.stderr();
    assert!(err.contains("msg/s") && err.contains("p95"), "{err}");
}
