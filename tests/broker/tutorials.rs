//! RabbitMQ tutorials 3 (fanout), 4 (direct routing) and 5 (topics) as rmq one-liners.

use crate::bg::Bg;
use crate::support::{Broker, pct_encode, rmq, setup, wait_until};
use std::time::Duration;

/// Wait until `n` bindings have `exchange` as their source.
fn wait_bindings(b: &Broker, vh: &str, exchange: &str, n: usize) {
    let path = format!(
        "/api/exchanges/{}/{}/bindings/source",
        pct_encode(vh),
        pct_encode(exchange)
    );
    wait_until(
        Duration::from_secs(20),
        &format!("{n} bindings on {exchange}"),
        || {
            b.api_request("GET", &path, None)
                .1
                .as_array()
                .is_some_and(|a| a.len() >= n)
        },
    );
}

fn emit(url: &str, exchange: &str, kind: &str, key: &str, body: &str) {
    rmq()
        .args([
            "--url", url, "send", "-e", exchange, "-t", kind, "-k", key, body,
        ])
        .assert()
        .success();
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn tutorial3_fanout_every_receiver_gets_every_message() {
    let (b, vh, url) = setup("t3");
    let args = [
        "--url",
        &url,
        "receive",
        "-e",
        "logs",
        "-t",
        "fanout",
        "-n",
        "3",
        "--timeout",
        "20",
    ];
    let mut r1 = Bg::start(&args);
    let mut r2 = Bg::start(&args);
    wait_bindings(b, &vh, "logs", 2);
    for m in ["info: a", "warning: b", "error: c"] {
        emit(&url, "logs", "fanout", "", m);
    }
    for r in [&mut r1, &mut r2] {
        assert!(r.wait(Duration::from_secs(30)).success(), "{}", r.stderr());
        assert_eq!(r.lines(), ["info: a", "warning: b", "error: c"]);
    }
    // Their private queues went away with them.
    wait_bindings(b, &vh, "logs", 0);
}

#[test]
fn tutorial4_direct_routing_delivers_by_binding_key() {
    let (b, vh, url) = setup("t4");
    let base = [
        "--url",
        url.as_str(),
        "receive",
        "-e",
        "direct_logs",
        "-t",
        "direct",
    ];
    let mut errors = Bg::start(&[&base[..], &["-b", "error", "--timeout", "3"]].concat());
    let mut all = Bg::start(
        &[
            &base[..],
            &[
                "-b",
                "info",
                "-b",
                "warning",
                "-b",
                "error",
                "--timeout",
                "3",
            ],
        ]
        .concat(),
    );
    wait_bindings(b, &vh, "direct_logs", 4);
    for (sev, msg) in [
        ("info", "i1"),
        ("warning", "w1"),
        ("error", "e1"),
        ("debug", "d1"),
    ] {
        emit(&url, "direct_logs", "direct", sev, msg);
    }
    assert!(errors.wait(Duration::from_secs(30)).success());
    assert!(all.wait(Duration::from_secs(30)).success());
    assert_eq!(errors.lines(), ["e1"]);
    assert_eq!(all.lines(), ["i1", "w1", "e1"]);
}

#[test]
fn tutorial5_topic_table_routes_as_the_tutorial_says() {
    let (b, vh, url) = setup("t5");
    let base = [
        "--url",
        url.as_str(),
        "receive",
        "-e",
        "topic_logs",
        "-t",
        "topic",
    ];
    let mut q1 = Bg::start(&[&base[..], &["-b", "*.orange.*", "--timeout", "3"]].concat());
    let mut q2 = Bg::start(
        &[
            &base[..],
            &["-b", "*.*.rabbit", "-b", "lazy.#", "--timeout", "3"],
        ]
        .concat(),
    );
    wait_bindings(b, &vh, "topic_logs", 3);
    for key in [
        "quick.orange.rabbit",
        "lazy.orange.elephant",
        "quick.orange.fox",
        "lazy.brown.fox",
        "lazy.pink.rabbit",
        "quick.brown.fox",
        "orange",
        "quick.orange.new.rabbit",
        "lazy.orange.new.rabbit",
    ] {
        emit(&url, "topic_logs", "topic", key, key);
    }
    assert!(q1.wait(Duration::from_secs(30)).success());
    assert!(q2.wait(Duration::from_secs(30)).success());
    assert_eq!(
        sorted(q1.lines()),
        [
            "lazy.orange.elephant",
            "quick.orange.fox",
            "quick.orange.rabbit"
        ]
    );
    // lazy.pink.rabbit matches both of q2's bindings but is delivered once.
    assert_eq!(
        sorted(q2.lines()),
        [
            "lazy.brown.fox",
            "lazy.orange.elephant",
            "lazy.orange.new.rabbit",
            "lazy.pink.rabbit",
            "quick.orange.rabbit"
        ]
    );
}
