//! `rmq tree`: the topology of a vhost (text, --json, --dot) through the management API:
//! fanout, topic and headers bindings, exchange-to-exchange bindings, the default
//! exchange's implicit bindings, counts, names Graphviz must take, and the API's errors.

use crate::support::{
    Broker, pct_encode, rmq, rmq_url, run_with_timeout, setup, skip, unique_name, wait_until,
};
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

/// `rmq --url URL --api-url API ARGS...`, which must succeed: its stdout.
fn tree(b: &Broker, url: &str, args: &[&str]) -> String {
    let a = rmq_url(url)
        .args(["--api-url", &b.api_url()])
        .args(args)
        .assert()
        .success();
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn tree_json(b: &Broker, url: &str, args: &[&str]) -> Value {
    let out = tree(b, url, &[&["--json", "tree"], args].concat());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn ok(url: &str, args: &[&str]) {
    rmq_url(url).args(args).assert().success();
}

/// An exchange-to-exchange binding (rmq bind binds queues only), through the API.
fn bind_exchange(b: &Broker, vh: &str, source: &str, dest: &str, key: &str) {
    let path = format!(
        "bindings/{}/e/{}/e/{}",
        pct_encode(vh),
        pct_encode(source),
        pct_encode(dest)
    );
    b.api_post(&path, &json!({"routing_key": key, "arguments": {}}));
}

/// logs (fanout) → a, b; topic_logs (topic) kern.* → kern, *.critical → critical,
/// # → audit (fanout exchange) → audit.log; reports (headers) format=pdf → pdf; and work,
/// bound to nothing.
fn declare_topology(b: &Broker, vh: &str, url: &str) {
    ok(url, &["exchange-declare", "logs", "-t", "fanout"]);
    ok(url, &["exchange-declare", "topic_logs", "-t", "topic"]);
    ok(url, &["exchange-declare", "audit", "-t", "fanout"]);
    ok(url, &["exchange-declare", "reports", "-t", "headers"]);
    for q in ["a", "b", "kern", "critical", "audit.log", "pdf", "work"] {
        ok(url, &["queue-declare", q]);
    }
    ok(url, &["bind", "-Q", "a", "-e", "logs"]);
    ok(url, &["bind", "-Q", "b", "-e", "logs"]);
    ok(
        url,
        &["bind", "-Q", "kern", "-e", "topic_logs", "-k", "kern.*"],
    );
    ok(
        url,
        &[
            "bind",
            "-Q",
            "critical",
            "-e",
            "topic_logs",
            "-k",
            "*.critical",
        ],
    );
    ok(url, &["bind", "-Q", "audit.log", "-e", "audit"]);
    ok(
        url,
        &[
            "bind",
            "-Q",
            "pdf",
            "-e",
            "reports",
            "--header",
            "format=pdf",
        ],
    );
    bind_exchange(b, vh, "topic_logs", "audit", "#");
}

/// Has every queue in the JSON tree `v` its counts (the API's statistics lag behind)?
fn counts_known(v: &Value) -> bool {
    match v {
        Value::Object(o) if o.contains_key("messages") => {
            !o["messages"].is_null() && !o["consumers"].is_null()
        }
        Value::Object(o) => o.values().all(counts_known),
        Value::Array(a) => a.iter().all(counts_known),
        _ => true,
    }
}

/// The exchange named `name` among `exchanges` (a JSON array).
fn named<'a>(exchanges: &'a Value, name: &str) -> &'a Value {
    exchanges
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("no exchange {name:?} in {exchanges}"))
}

#[test]
fn tree_shows_fanout_topic_headers_and_exchange_bindings_where_they_belong() {
    let (b, vh, url) = setup("tree-text");
    declare_topology(b, &vh, &url);
    // kern.info reaches kern and, through topic_logs -> audit, audit.log.
    for i in 0..3 {
        ok(
            &url,
            &[
                "send",
                "-e",
                "topic_logs",
                "-k",
                "kern.info",
                &format!("m{i}"),
            ],
        );
    }
    let expected = "\
logs (fanout exchange)
├── a (queue, 0 messages, 0 consumers)
└── b (queue, 0 messages, 0 consumers)
reports (headers exchange)
└── x-match=all, format=pdf
    └── pdf (queue, 0 messages, 0 consumers)
topic_logs (topic exchange)
├── #
│   └── audit (fanout exchange)
│       └── audit.log (queue, 3 messages, 0 consumers)
├── *.critical
│   └── critical (queue, 0 messages, 0 consumers)
└── kern.*
    └── kern (queue, 3 messages, 0 consumers)
(unbound queues)
└── work (queue, 0 messages, 0 consumers)
";
    // The API's statistics lag behind the sends: wait until the counts are in.
    let mut out = String::new();
    wait_until(Duration::from_secs(30), "the tree with its counts", || {
        out = tree(b, &url, &["tree"]);
        out == expected
    });
}

#[test]
fn tree_json_nests_bindings_and_exchanges_with_the_brokers_counts() {
    let (b, vh, url) = setup("tree-json");
    declare_topology(b, &vh, &url);
    ok(&url, &["send", "-e", "logs", "to-both"]);
    let mut doc = Value::Null;
    wait_until(Duration::from_secs(30), "messages 1 on a and b", || {
        doc = tree_json(b, &url, &[]);
        let logs = named(&doc["exchanges"], "logs");
        counts_known(&doc)
            && logs["bindings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|b| b["queue"]["messages"] == 1)
    });
    assert_eq!(doc["vhost"], vh.as_str());
    let roots: Vec<&str> = doc["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    // audit is under topic_logs, not a root; no default or amq.* exchange without --all.
    assert_eq!(roots, ["logs", "reports", "topic_logs"]);
    let logs = named(&doc["exchanges"], "logs");
    assert_eq!(logs["type"], "fanout");
    let queues: Vec<&Value> = logs["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["queue"]["name"])
        .collect();
    assert_eq!(queues, ["a", "b"]);
    assert_eq!(logs["bindings"][0]["destination_type"], "queue");
    assert_eq!(logs["bindings"][0].get("arguments"), None);

    let topic = named(&doc["exchanges"], "topic_logs");
    let keys: Vec<&str> = topic["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["routing_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["#", "*.critical", "kern.*"]);
    let to_audit = &topic["bindings"][0];
    assert_eq!(to_audit["destination_type"], "exchange");
    assert_eq!(to_audit["exchange"]["name"], "audit");
    assert_eq!(to_audit["exchange"]["type"], "fanout");
    assert_eq!(
        to_audit["exchange"]["bindings"][0]["queue"],
        json!({"name": "audit.log", "messages": 0, "consumers": 0})
    );
    assert_eq!(topic["bindings"][2]["queue"]["name"], "kern");

    let reports = named(&doc["exchanges"], "reports");
    assert_eq!(
        reports["bindings"][0]["arguments"],
        json!({"x-match": "all", "format": "pdf"})
    );
    assert_eq!(reports["bindings"][0]["queue"]["name"], "pdf");
    assert_eq!(
        doc["unbound"],
        json!([{"name": "work", "messages": 0, "consumers": 0}])
    );
}

#[test]
fn tree_leaves_the_default_exchange_out_unless_all() {
    let (b, _vh, url) = setup("tree-all");
    ok(&url, &["queue-declare", "work"]);
    let mut text = String::new();
    wait_until(Duration::from_secs(30), "the queue's counts", || {
        text = tree(b, &url, &["tree"]);
        text == "(unbound queues)\n└── work (queue, 0 messages, 0 consumers)\n"
    });
    let doc = tree_json(b, &url, &[]);
    assert_eq!(doc["exchanges"], json!([]));

    let text = tree(b, &url, &["tree", "--all"]);
    assert!(
        text.starts_with("(AMQP default) (direct exchange)\n└── work\n    └── work (queue"),
        "{text}"
    );
    assert!(text.contains("\namq.topic (topic exchange)\n"), "{text}");
    let doc = tree_json(b, &url, &["--all"]);
    let default = named(&doc["exchanges"], "");
    assert_eq!(default["type"], "direct");
    assert_eq!(default["bindings"][0]["routing_key"], "work");
    assert_eq!(default["bindings"][0]["queue"]["name"], "work");
    named(&doc["exchanges"], "amq.fanout");
    // The default exchange's binding does not make a queue bound.
    assert_eq!(doc["unbound"][0]["name"], "work");
}

#[test]
fn tree_dot_takes_any_name_and_graphviz_accepts_it() {
    let (b, vh, url) = setup("tree-dot");
    let exchange = "ex \"quoted\" v1.2 ünï\\";
    let queue = "a queue.with \"quotes\" ✓";
    ok(&url, &["exchange-declare", exchange, "-t", "direct"]);
    ok(&url, &["exchange-declare", "inner.x", "-t", "topic"]);
    ok(&url, &["queue-declare", queue]);
    ok(
        &url,
        &["bind", "-Q", queue, "-e", exchange, "-k", "k \"1\".x"],
    );
    bind_exchange(b, &vh, exchange, "inner.x", "to inner");
    let dot = tree(b, &url, &["tree", "--dot"]);
    assert!(dot.starts_with("digraph "), "{dot}");
    let x = r#""x:ex \"quoted\" v1.2 ünï\\""#;
    let q = r#""q:a queue.with \"quotes\" ✓""#;
    assert!(dot.contains(&format!("{x} [shape=box")), "{dot}");
    assert!(dot.contains(&format!("{q} [shape=cylinder")), "{dot}");
    assert!(
        dot.contains(&format!(r#"{x} -> {q} [label="k \"1\".x"];"#)),
        "{dot}"
    );
    assert!(
        dot.contains(&format!(r#"{x} -> "x:inner.x" [label="to inner"];"#)),
        "{dot}"
    );
    let Some(svg) = graphviz_svg(&dot) else {
        return skip("graphviz's dot is not installed (apt-get install graphviz)");
    };
    assert!(svg.contains("<svg"), "{svg}");
    assert!(svg.contains("ünï"), "{svg}");
    assert!(svg.contains("✓"), "{svg}");
}

/// `dot -Tsvg` on `input`: its SVG, or None when dot cannot be run. Panics when dot rejects
/// the input.
fn graphviz_svg(input: &str) -> Option<String> {
    Command::new("dot").arg("-V").output().ok()?;
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{}.dot", unique_name("tree")));
    std::fs::write(&file, input).unwrap();
    let out = run_with_timeout(
        Command::new("dot").arg("-Tsvg").arg(&file),
        Duration::from_secs(30),
    );
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "dot -Tsvg rejected the digraph: {}\n{input}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn tree_errors_name_the_vhost_or_the_plugin() {
    let (b, _vh, url) = setup("tree-errors");
    let a = rmq_url(&url)
        .args([
            "--api-url",
            &b.api_url(),
            "--vhost",
            "no-such-vhost-t",
            "tree",
        ])
        .assert()
        .code(5)
        .stdout("");
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("vhost 'no-such-vhost-t'"), "{err}");
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let a = rmq()
        .args(["--url", &url, "--api-url", &dead, "tree", "--dot"])
        .assert()
        .code(3)
        .stdout("");
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("rabbitmq-plugins enable rabbitmq_management"),
        "{err}"
    );
}

/// A local port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
