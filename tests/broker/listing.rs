//! list-queues, list-exchanges, list-bindings through the management API: formats, counts,
//! vhosts, filters, and what happens when the API cannot be used.

use crate::support::{Broker, rmq, rmq_url, unique_name, wait_output, wait_until};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::time::Duration;

const QUEUE_HEADER: &str = "name\tmessages\tready\tunacked\tconsumers\tdurable\ttype";

/// [`crate::support::setup`] plus the management API URL.
fn setup(name: &str) -> (&'static Broker, String, String, String) {
    let (b, vh, url) = crate::support::setup(name);
    (b, vh, url, b.api_url())
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

fn list(url: &str, api: &str, args: &[&str]) -> String {
    let a = rmq()
        .args(["--url", url, "--api-url", api])
        .args(args)
        .assert()
        .success();
    stdout(&a)
}

fn send(url: &str, queue: &str, n: usize) {
    for i in 0..n {
        rmq()
            .args(["--url", url, "send", "-Q", queue, &format!("m{i}")])
            .assert()
            .success();
    }
}

#[test]
fn list_queues_without_terminal_prints_a_header_and_tab_separated_rows_with_counts() {
    let (b, vh, url, api) = setup("lq-tsv");
    rmq_url(&url)
        .args(["queue-declare", "q-durable", "--durable"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["queue-declare", "q-quorum", "--quorum"])
        .assert()
        .success();
    send(&url, "q-durable", 3);
    rmq_url(&url)
        .args(["queue-declare", "q-empty"])
        .assert()
        .success();
    assert_eq!(b.queue_messages(&vh, "q-durable"), 3);
    // The API's statistics lag behind (a count not known yet is an empty cell): wait until
    // every count is there.
    let expected = [
        QUEUE_HEADER,
        "q-durable\t3\t3\t0\t0\ttrue\tclassic",
        "q-empty\t0\t0\t0\t0\tfalse\tclassic",
        "q-quorum\t0\t0\t0\t0\ttrue\tquorum",
    ]
    .join("\n")
        + "\n";
    let mut out = String::new();
    wait_until(
        Duration::from_secs(30),
        "list-queues to show every count",
        || {
            out = list(&url, &api, &["list-queues"]);
            out == expected
        },
    );
}

#[test]
fn list_queues_json_is_an_array_with_counts_flags_and_arguments() {
    let (_b, vh, url, api) = setup("lq-json");
    rmq_url(&url)
        .args(["queue-declare", "dl", "--message-ttl", "600000"])
        .args(["--dead-letter-exchange", "dlx"])
        .assert()
        .success();
    send(&url, "dl", 2);
    let mut rows = Vec::new();
    // The counts come from the management plugin's statistics, which lag under load (a fresh
    // queue's record can lack "consumers" for a moment): wait until every one of them has
    // been published.
    wait_until(Duration::from_secs(30), "JSON messages = 2", || {
        let v: Value = serde_json::from_str(&list(&url, &api, &["--json", "list-queues"])).unwrap();
        rows = v.as_array().unwrap().clone();
        rows.len() == 1
            && rows[0]["messages"] == 2
            && rows[0]["ready"] == 2
            && rows[0]["unacked"] == 0
            && !rows[0]["consumers"].is_null()
    });
    let q = &rows[0];
    assert_eq!(q["name"], "dl");
    assert_eq!(q["vhost"], vh.as_str());
    assert_eq!(q["ready"], 2);
    assert_eq!(q["unacked"], 0);
    assert_eq!(q["consumers"], 0);
    assert_eq!(q["durable"], false);
    assert_eq!(q["type"], "classic");
    assert_eq!(
        q["arguments"],
        json!({"x-message-ttl": 600000, "x-dead-letter-exchange": "dlx"})
    );
    // An empty vhost is an empty array, not nothing.
    let (_b2, _vh2, url2, _) = setup("lq-json-empty");
    assert_eq!(list(&url2, &api, &["list-queues", "--json"]).trim(), "[]");
}

#[test]
fn list_queues_filter_vhost_and_all_vhosts() {
    let (_b, vh, url, api) = setup("lq-filter");
    for q in ["orders.new", "orders.done", "audit"] {
        rmq_url(&url).args(["queue-declare", q]).assert().success();
    }
    let out = list(&url, &api, &["list-queues", "--filter", "^orders\\."]);
    let names: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(names, ["orders.done", "orders.new"]);

    // --vhost picks another vhost than the URL's.
    let (_b, other, other_url, _) = setup("lq-other");
    rmq()
        .args(["--url", &other_url, "queue-declare", "elsewhere"])
        .assert()
        .success();
    let out = list(&url, &api, &["list-queues", "--vhost", &other]);
    assert_eq!(out.lines().skip(1).count(), 1, "{out}");
    assert!(out.contains("elsewhere"));

    // --all-vhosts adds a vhost column first.
    let out = list(&url, &api, &["list-queues", "--all-vhosts"]);
    assert!(
        out.starts_with(&format!("vhost\t{QUEUE_HEADER}\n")),
        "{out}"
    );
    assert!(out.contains(&format!("{vh}\taudit\t")), "{out}");
    assert!(out.contains(&format!("{other}\telsewhere\t")), "{out}");

    // A bad regular expression is a usage error.
    rmq_url(&url)
        .args(["--api-url", &api, "list-queues", "--filter", "("])
        .assert()
        .code(2);
}

#[test]
fn list_queues_handles_odd_names_and_vhosts() {
    let b = Broker::shared();
    let vh = b.vhost(&format!("{} a/b%c", unique_name("lq-odd")));
    let url = b.amqp_url(&vh);
    let api = b.api_url();
    let name = "tab\there/and space?#";
    rmq_url(&url)
        .args(["queue-declare", name])
        .assert()
        .success();
    let out = list(&url, &api, &["list-queues"]);
    assert_eq!(
        out.lines().nth(1).unwrap().split('\t').next(),
        Some("tab\\there/and space?#")
    );
    let v: Value = serde_json::from_str(&list(&url, &api, &["list-queues", "--json"])).unwrap();
    assert_eq!(v[0]["name"], name);
    assert_eq!(v[0]["vhost"], vh.as_str());
    let out = list(&url, &api, &["list-bindings", "-Q", name]);
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn list_exchanges_and_bindings_show_types_and_routes() {
    let (_b, _vh, url, api) = setup("lx");
    rmq_url(&url)
        .args(["exchange-declare", "topic_logs", "-t", "topic", "--durable"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["exchange-declare", "matcher", "-t", "headers", "--internal"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["queue-declare", "kern"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["bind", "-Q", "kern", "-e", "topic_logs", "-k", "kern.*"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["bind", "-Q", "kern", "-e", "matcher", "--header", "a=1"])
        .assert()
        .success();

    let out = list(&url, &api, &["list-exchanges"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "name\ttype\tdurable\tauto_delete\tinternal");
    assert!(
        lines.contains(&"\tdirect\ttrue\tfalse\tfalse"),
        "default exchange: {out}"
    );
    assert!(
        lines.contains(&"topic_logs\ttopic\ttrue\tfalse\tfalse"),
        "{out}"
    );
    assert!(
        lines.contains(&"matcher\theaders\tfalse\tfalse\ttrue"),
        "{out}"
    );
    assert!(
        lines.contains(&"amq.fanout\tfanout\ttrue\tfalse\tfalse"),
        "{out}"
    );
    let v: Value = serde_json::from_str(&list(&url, &api, &["list-exchanges", "--json"])).unwrap();
    assert_eq!(v.as_array().unwrap().len(), lines.len() - 1);

    let out = list(&url, &api, &["list-bindings"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "source\tdestination\tdestination_type\trouting_key\targuments",
            "\tkern\tqueue\tkern\t",
            "matcher\tkern\tqueue\t\t{\"a\":1,\"x-match\":\"all\"}",
            "topic_logs\tkern\tqueue\tkern.*\t",
        ],
        "{out}"
    );
    let out = list(&url, &api, &["list-bindings", "-e", "topic_logs"]);
    assert_eq!(out.lines().count(), 2, "{out}");
    let v: Value = serde_json::from_str(&list(
        &url,
        &api,
        &["list-bindings", "--json", "-Q", "kern"],
    ))
    .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    // Bindings of a queue or exchange that does not exist: exit 5.
    for args in [["-Q", "nope"], ["-e", "nope"]] {
        rmq_url(&url)
            .args(["--api-url", &api, "list-bindings"])
            .args(args)
            .assert()
            .code(5);
    }
}

/// A local port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn unreachable_api_exits_3_with_the_plugin_hint() {
    let (_b, _vh, url, _api) = setup("lq-noapi");
    let dead = format!("http://127.0.0.1:{}", closed_port());
    for cmd in ["list-queues", "list-exchanges", "list-bindings"] {
        let a = rmq_url(&url)
            .args(["--api-url", &dead, cmd])
            .assert()
            .code(3)
            .stdout("");
        let err = stderr(&a);
        assert!(err.contains("connection refused"), "{err}");
        assert!(err.contains(&dead), "{err}");
        assert!(
            err.contains("rabbitmq-plugins enable rabbitmq_management"),
            "{err}"
        );
    }
    // RMQ_API_URL works like --api-url.
    rmq()
        .env("RMQ_API_URL", &dead)
        .args(["--url", &url, "list-queues"])
        .assert()
        .code(3);
}

#[test]
fn api_url_pointing_at_the_amqp_port_exits_3() {
    let (b, _vh, url, _api) = setup("lq-amqpport");
    let wrong = format!("http://127.0.0.1:{}", b.amqp_port());
    let a = rmq_url(&url)
        .args(["--api-url", &wrong, "list-queues"])
        .assert()
        .code(3);
    assert!(stderr(&a).contains("not the AMQP port"), "{}", stderr(&a));
}

#[test]
fn wrong_password_exits_4_and_never_prints_it() {
    let (b, vh, _url, api) = setup("lq-auth");
    let (user, _) = b.credentials();
    let bad = format!(
        "amqp://{user}:s3cr3t-wrong@127.0.0.1:{}/{}",
        b.amqp_port(),
        crate::support::pct_encode(&vh)
    );
    let a = rmq()
        .args(["--url", &bad, "--api-url", &api, "list-queues"])
        .assert()
        .code(4);
    let err = stderr(&a);
    assert!(err.contains(&format!("user '{user}'")), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
    // Credentials in the API URL are used and redacted too.
    let api_bad = api.replace("http://", &format!("http://{user}:s3cr3t-wrong@"));
    let a = rmq()
        .args([
            "--url",
            &b.amqp_url(&vh),
            "--api-url",
            &api_bad,
            "list-exchanges",
        ])
        .assert()
        .code(4);
    assert!(!stderr(&a).contains("s3cr3t"), "{}", stderr(&a));
}

#[test]
fn missing_vhost_exits_5() {
    let (_b, _vh, url, api) = setup("lq-novhost");
    let a = rmq_url(&url)
        .args([
            "--api-url",
            &api,
            "--vhost",
            "no-such-vhost-x",
            "list-queues",
        ])
        .assert()
        .code(5);
    assert!(
        stderr(&a).contains("vhost 'no-such-vhost-x'"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn list_queues_into_a_closed_pipe_exits_0() {
    let (_b, _vh, url, api) = setup("lq-pipe");
    for i in 0..50 {
        rmq_url(&url)
            .args(["queue-declare", &format!("q{i:03}")])
            .assert()
            .success();
    }
    let mut child = crate::support::rmq_std()
        .args(["--url", &url, "--api-url", &api, "list-queues"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = wait_output(
        child,
        Duration::from_secs(60),
        "rmq list-queues into a closed pipe",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn list_queues_counts_consumers_with_and_without_statistics() {
    // A table or TSV counts consumers from /api/consumers (the queues then come without
    // statistics); --json without --columns asks the queues' statistics. Both show two.
    let (_b, _vh, url, api) = setup("lq-consumers");
    rmq_url(&url)
        .args(["queue-declare", "busy"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["queue-declare", "idle"])
        .assert()
        .success();
    let mut children: Vec<_> = (0..2)
        .map(|_| {
            crate::support::rmq_std()
                .args(["--url", &url, "receive", "-Q", "busy", "--timeout", "60"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let expected = [
        QUEUE_HEADER,
        "busy\t0\t0\t0\t2\tfalse\tclassic",
        "idle\t0\t0\t0\t0\tfalse\tclassic",
    ]
    .join("\n")
        + "\n";
    let mut out = String::new();
    wait_until(
        Duration::from_secs(30),
        "list-queues to count 2 consumers",
        || {
            out = list(&url, &api, &["list-queues"]);
            out == expected
        },
    );
    wait_until(
        Duration::from_secs(30),
        "the statistics to count 2 consumers",
        || {
            out = list(
                &url,
                &api,
                &["list-queues", "--columns", "name,consumers,state"],
            );
            out == "name\tconsumers\tstate\nbusy\t2\trunning\nidle\t0\trunning\n"
        },
    );
    for c in &mut children {
        let _ = c.kill();
        let _ = c.wait();
    }
}
