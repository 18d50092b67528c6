//! Administration over AMQP: exchange-declare, queue-declare, bind/unbind, queue-purge,
//! queue-delete, exchange-delete. Every effect is checked through the management API.

use crate::bg::Bg;
use crate::support::{Broker, pct_encode, rmq, rmq_url, setup, wait_until};
use serde_json::{Value, json};
use std::time::Duration;

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

fn exchange(b: &Broker, vh: &str, x: &str) -> Option<Value> {
    let path = format!("exchanges/{}/{}", pct_encode(vh), pct_encode(x));
    match b.api_request("GET", &path, None) {
        (200, v) => Some(v),
        (404, _) => None,
        (s, v) => panic!("GET {path}: {s} {v}"),
    }
}

/// Bindings from exchange `x` to queue `q`, as the API lists them.
fn bindings(b: &Broker, vh: &str, x: &str, q: &str) -> Vec<Value> {
    let v = b.api_get(&format!(
        "bindings/{}/e/{}/q/{}",
        pct_encode(vh),
        pct_encode(x),
        pct_encode(q)
    ));
    v.as_array().unwrap().clone()
}

fn send(url: &str, args: &[&str]) {
    rmq()
        .args(["--url", url, "send"])
        .args(args)
        .assert()
        .success();
}

#[test]
fn exchange_declare_creates_all_four_types_with_flags_and_typed_args() {
    let (b, vh, url) = setup("xdecl");
    let cases: [(&str, &str, &[&str]); 4] = [
        ("fx", "fanout", &["--durable"]),
        ("dx", "direct", &["--auto-delete"]),
        ("tx", "topic", &["--internal"]),
        (
            "hx",
            "headers",
            &[
                "--durable",
                "--arg",
                "alternate-exchange=ae",
                "--arg",
                "x-n=7",
            ],
        ),
    ];
    for (name, kind, flags) in cases {
        rmq_url(&url)
            .args(["exchange-declare", name, "-t", kind])
            .args(flags)
            .assert()
            .success()
            .stdout("");
        let x = exchange(b, &vh, name).unwrap_or_else(|| panic!("{name} not declared"));
        assert_eq!(x["type"], kind, "{x}");
        assert_eq!(x["durable"], flags.contains(&"--durable"), "{x}");
        assert_eq!(x["auto_delete"], flags.contains(&"--auto-delete"), "{x}");
        assert_eq!(x["internal"], flags.contains(&"--internal"), "{x}");
    }
    let hx = exchange(b, &vh, "hx").unwrap();
    assert_eq!(
        hx["arguments"],
        json!({"alternate-exchange": "ae", "x-n": 7})
    );
}

#[test]
fn exchange_declare_again_is_a_noop_but_a_difference_exits_6_naming_it() {
    let (b, vh, url) = setup("xredecl");
    let declare = |args: &[&str]| {
        rmq_url(&url)
            .args(["exchange-declare", "logs"])
            .args(args)
            .assert()
    };
    declare(&["-t", "fanout", "--durable"]).success();
    declare(&["-t", "fanout", "--durable"]).success();
    let a = declare(&["-t", "topic", "--durable"]).code(6);
    let err = stderr_of(&a);
    assert!(err.contains("exchange 'logs'"), "{err}");
    assert!(err.contains("inequivalent arg 'type'"), "{err}");
    assert!(err.contains("rmq exchange-delete logs"), "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
    let a = declare(&["-t", "fanout"]).code(6);
    assert!(stderr_of(&a).contains("'durable'"));
    let x = exchange(b, &vh, "logs").unwrap();
    assert_eq!(
        (x["type"].as_str(), x["durable"].as_bool()),
        (Some("fanout"), Some(true))
    );
}

#[test]
fn queue_declare_sets_typed_arguments_and_prints_name_messages_consumers() {
    let (b, vh, url) = setup("qdecl");
    rmq_url(&url)
        .args([
            "queue-declare",
            "orders",
            "--durable",
            "--message-ttl",
            "60000",
            "--max-length",
            "10",
            "--dead-letter-exchange",
            "orders.dlx",
            "--arg",
            "x-dead-letter-routing-key=dead",
            "--arg",
            "x-max-priority=5",
            "--arg",
            "x-single-active-consumer=true",
        ])
        .assert()
        .success()
        .stdout("name\tmessages\tconsumers\norders\t0\t0\n");
    let q = b.queue_info(&vh, "orders").unwrap();
    assert_eq!(q["durable"], true);
    assert_eq!(
        q["arguments"],
        json!({
            "x-dead-letter-exchange": "orders.dlx",
            "x-dead-letter-routing-key": "dead",
            "x-max-length": 10,
            "x-max-priority": 5,
            "x-message-ttl": 60000,
            "x-single-active-consumer": true,
        })
    );
    // Declaring it again shows the current counts (exact, from the broker).
    send(&url, &["-Q", "orders", "--no-declare", "one"]);
    send(&url, &["-Q", "orders", "--no-declare", "two"]);
    let out = rmq_url(&url)
        .args([
            "--json",
            "queue-declare",
            "orders",
            "--durable",
            "--message-ttl",
            "60000",
            "--max-length",
            "10",
            "--dead-letter-exchange",
            "orders.dlx",
            "--arg",
            "x-dead-letter-routing-key=dead",
            "--arg",
            "x-max-priority=5",
            "--arg",
            "x-single-active-consumer=true",
        ])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v, json!({"name": "orders", "messages": 2, "consumers": 0}));
}

#[test]
fn queue_declare_quorum_makes_a_durable_quorum_queue() {
    let (b, vh, url) = setup("qquorum");
    rmq_url(&url)
        .args(["queue-declare", "qq", "--quorum"])
        .assert()
        .success();
    let q = b.queue_info(&vh, "qq").unwrap();
    assert_eq!(q["type"], "quorum");
    assert_eq!(q["durable"], true);
    assert_eq!(q["arguments"]["x-queue-type"], "quorum");
    // The same declaration without --quorum is a different queue.
    let a = rmq_url(&url)
        .args(["queue-declare", "qq", "--durable"])
        .assert()
        .code(6);
    assert!(stderr_of(&a).contains("x-queue-type"), "{}", stderr_of(&a));
    // --quorum cannot be auto-delete.
    rmq_url(&url)
        .args(["queue-declare", "qq2", "--quorum", "--auto-delete"])
        .assert()
        .code(2);
    assert!(b.queue_info(&vh, "qq2").is_none());
}

#[test]
fn queue_declare_with_different_arguments_exits_6_and_changes_nothing() {
    let (b, vh, url) = setup("qmismatch");
    rmq_url(&url)
        .args([
            "queue-declare",
            "jobs",
            "--durable",
            "--message-ttl",
            "5000",
        ])
        .assert()
        .success();
    for (args, word) in [
        (vec!["--durable"], "x-message-ttl"),
        (vec!["--message-ttl", "5000"], "durable"),
        (vec!["--durable", "--message-ttl", "6000"], "x-message-ttl"),
    ] {
        let a = rmq_url(&url)
            .args(["queue-declare", "jobs"])
            .args(&args)
            .assert()
            .code(6);
        let err = stderr_of(&a);
        assert!(
            err.contains(&format!("queue 'jobs' in vhost '{vh}'")),
            "{err}"
        );
        assert!(err.contains("PRECONDITION_FAILED"), "{err}");
        assert!(err.contains(word), "{args:?}: {err}");
        assert!(err.contains("rmq queue-delete jobs"), "{err}");
    }
    let q = b.queue_info(&vh, "jobs").unwrap();
    assert_eq!(q["durable"], true);
    assert_eq!(q["arguments"], json!({"x-message-ttl": 5000}));
    // A flag and --arg for the same argument: usage error, nothing declared.
    rmq_url(&url)
        .args([
            "queue-declare",
            "other",
            "--message-ttl",
            "1",
            "--arg",
            "x-message-ttl=2",
        ])
        .assert()
        .code(2);
    assert!(b.queue_info(&vh, "other").is_none());
}

#[test]
fn queue_declare_empty_name_prints_the_server_generated_name() {
    let (b, vh, url) = setup("qgen");
    let out = rmq_url(&url)
        .args(["queue-declare", "", "--auto-delete"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let row = stdout.lines().nth(1).unwrap();
    let name = row.split('\t').next().unwrap();
    assert!(name.starts_with("amq.gen-"), "{stdout}");
    assert!(b.queue_info(&vh, name).is_some());
}

#[test]
fn bind_with_keys_adds_one_binding_each_and_unbind_removes_them() {
    let (b, vh, url) = setup("bind");
    rmq_url(&url)
        .args(["exchange-declare", "direct_logs", "-t", "direct"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["queue-declare", "errors"])
        .assert()
        .success();
    rmq_url(&url)
        .args([
            "bind",
            "-Q",
            "errors",
            "-e",
            "direct_logs",
            "-k",
            "error",
            "-k",
            "warning",
        ])
        .assert()
        .success();
    let mut keys: Vec<String> = bindings(b, &vh, "direct_logs", "errors")
        .iter()
        .map(|b| b["routing_key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    assert_eq!(keys, ["error", "warning"]);
    send(&url, &["-e", "direct_logs", "-k", "warning", "w"]);
    send(&url, &["-e", "direct_logs", "-k", "info", "i"]);
    assert_eq!(b.queue_messages(&vh, "errors"), 1);

    rmq_url(&url)
        .args([
            "unbind",
            "-Q",
            "errors",
            "-e",
            "direct_logs",
            "-k",
            "warning",
        ])
        .assert()
        .success();
    let keys: Vec<Value> = bindings(b, &vh, "direct_logs", "errors")
        .iter()
        .map(|b| b["routing_key"].clone())
        .collect();
    assert_eq!(keys, [json!("error")]);
    // Unbinding what is not bound succeeds, like RabbitMQ; a missing exchange is exit 5.
    rmq_url(&url)
        .args(["unbind", "-Q", "errors", "-e", "direct_logs", "-k", "nope"])
        .assert()
        .success();
    let a = rmq_url(&url)
        .args(["bind", "-Q", "errors", "-e", "missing", "-k", "x"])
        .assert()
        .code(5);
    assert!(stderr_of(&a).contains("'missing'"), "{}", stderr_of(&a));
}

#[test]
fn bind_without_key_binds_with_the_empty_key_for_fanout() {
    let (b, vh, url) = setup("bindfan");
    rmq_url(&url)
        .args(["exchange-declare", "logs", "-t", "fanout"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["queue-declare", "q1"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["bind", "-Q", "q1", "-e", "logs"])
        .assert()
        .success();
    let bs = bindings(b, &vh, "logs", "q1");
    assert_eq!(bs.len(), 1);
    assert_eq!(bs[0]["routing_key"], "");
    send(&url, &["-e", "logs", "-k", "anything", "hello"]);
    assert_eq!(b.queue_messages(&vh, "q1"), 1);
}

#[test]
fn headers_bindings_route_by_x_match_all_and_any() {
    let (b, vh, url) = setup("headers");
    rmq_url(&url)
        .args(["exchange-declare", "matcher", "-t", "headers"])
        .assert()
        .success();
    for q in ["all", "any", "typed"] {
        rmq_url(&url).args(["queue-declare", q]).assert().success();
    }
    let all = [
        "-Q",
        "all",
        "-e",
        "matcher",
        "--header",
        "format=pdf",
        "--header",
        "type=report",
    ];
    rmq_url(&url).args(["bind"]).args(all).assert().success();
    rmq_url(&url)
        .args(["bind", "-Q", "any", "-e", "matcher"])
        .args([
            "--header",
            "format=pdf",
            "--header",
            "type=report",
            "--match",
            "any",
        ])
        .assert()
        .success();
    rmq_url(&url)
        .args(["bind", "-Q", "typed", "-e", "matcher"])
        .args(["--header", "n=1"])
        .assert()
        .success();

    let args = &bindings(b, &vh, "matcher", "all")[0]["arguments"];
    assert_eq!(
        args,
        &json!({"format": "pdf", "type": "report", "x-match": "all"})
    );
    let args = &bindings(b, &vh, "matcher", "any")[0]["arguments"];
    assert_eq!(args["x-match"], "any");
    assert_eq!(bindings(b, &vh, "matcher", "typed")[0]["arguments"]["n"], 1);

    send(&url, &["-e", "matcher", "-H", "format=pdf", "one header"]);
    assert_eq!(b.queue_messages(&vh, "all"), 0);
    assert_eq!(b.queue_messages(&vh, "any"), 1);
    send(
        &url,
        &[
            "-e",
            "matcher",
            "-H",
            "format=pdf",
            "-H",
            "type=report",
            "both",
        ],
    );
    assert_eq!(b.queue_messages(&vh, "all"), 1);
    assert_eq!(b.queue_messages(&vh, "any"), 2);
    // Typed on both sides: the integer header 1 matches the integer binding value 1.
    send(&url, &["-e", "matcher", "-H", "n=1", "typed"]);
    assert_eq!(b.queue_messages(&vh, "typed"), 1);

    // unbind with the same headers removes exactly that binding.
    rmq_url(&url).args(["unbind"]).args(all).assert().success();
    assert!(bindings(b, &vh, "matcher", "all").is_empty());
    assert_eq!(bindings(b, &vh, "matcher", "any").len(), 1);
    // --match needs --header.
    rmq_url(&url)
        .args(["bind", "-Q", "any", "-e", "matcher", "--match", "all"])
        .assert()
        .code(2);
}

#[test]
fn queue_purge_needs_yes_without_a_terminal_and_then_empties_the_queue() {
    let (b, vh, url) = setup("purge");
    send(&url, &["-Q", "work", "a"]);
    send(&url, &["-Q", "work", "b"]);
    send(&url, &["-Q", "work", "c"]);
    let a = rmq_url(&url)
        .args(["queue-purge", "work"])
        .assert()
        .code(2)
        .stdout("");
    let err = stderr_of(&a);
    assert!(err.contains("purging queue 'work'"), "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(b.queue_messages(&vh, "work"), 3);
    // Without RMQ_NON_INTERACTIVE too: stdin is not a terminal, so rmq does not ask.
    rmq()
        .env_remove("RMQ_NON_INTERACTIVE")
        .args(["--url", &url, "queue-purge", "work"])
        .assert()
        .code(2);
    assert_eq!(b.queue_messages(&vh, "work"), 3);

    let a = rmq_url(&url)
        .args(["queue-purge", "work", "--yes"])
        .assert()
        .success()
        .stdout("");
    assert!(
        stderr_of(&a).contains("purged 3 message(s)"),
        "{}",
        stderr_of(&a)
    );
    assert_eq!(b.queue_messages(&vh, "work"), 0);

    let out = rmq_url(&url)
        .args(["--json", "queue-purge", "-y", "work"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["purged"], 0);
    rmq_url(&url)
        .args(["queue-purge", "-y", "missing"])
        .assert()
        .code(5);
}

#[test]
fn queue_delete_needs_yes_refuses_non_empty_with_if_empty_and_reports_missing() {
    let (b, vh, url) = setup("qdel");
    send(&url, &["-Q", "full", "x"]);
    // No terminal, no --yes: exit 2, nothing deleted.
    rmq_url(&url)
        .args(["queue-delete", "full"])
        .assert()
        .code(2);
    assert!(b.queue_info(&vh, "full").is_some());
    // --if-empty on a queue with a message: exit 6, still there.
    let a = rmq_url(&url)
        .args(["queue-delete", "full", "--if-empty", "--yes"])
        .assert()
        .code(6);
    let err = stderr_of(&a);
    assert!(
        err.contains("queue 'full'") && err.contains("--if-empty"),
        "{err}"
    );
    assert_eq!(b.queue_messages(&vh, "full"), 1);
    // --yes: gone, the message count is reported.
    let a = rmq_url(&url)
        .args(["queue-delete", "full", "-y"])
        .assert()
        .success();
    assert!(
        stderr_of(&a).contains("(1 message(s))"),
        "{}",
        stderr_of(&a)
    );
    assert!(b.queue_info(&vh, "full").is_none());
    // A missing queue is exit 5 (RabbitMQ alone would say "deleted").
    let a = rmq_url(&url)
        .args(["queue-delete", "full", "-y"])
        .assert()
        .code(5);
    assert!(stderr_of(&a).contains("queue 'full'"), "{}", stderr_of(&a));
}

#[test]
fn queue_delete_if_unused_refuses_a_queue_with_a_consumer() {
    let (b, vh, url) = setup("qdelused");
    rmq_url(&url)
        .args(["queue-declare", "busy"])
        .assert()
        .success();
    let consumer = Bg::start(&["--url", &url, "receive", "-Q", "busy"]);
    wait_until(Duration::from_secs(20), "a consumer on busy", || {
        b.queue_info(&vh, "busy")
            .is_some_and(|q| q["consumers"].as_u64() == Some(1))
    });
    let a = rmq_url(&url)
        .args(["queue-delete", "busy", "--if-unused", "-y"])
        .assert()
        .code(6);
    assert!(stderr_of(&a).contains("consumer"), "{}", stderr_of(&a));
    assert!(b.queue_info(&vh, "busy").is_some());
    drop(consumer);
}

#[test]
fn exchange_delete_needs_yes_respects_if_unused_and_reports_missing() {
    let (b, vh, url) = setup("xdel");
    rmq_url(&url)
        .args(["exchange-declare", "logs", "-t", "fanout"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["queue-declare", "q"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["bind", "-Q", "q", "-e", "logs"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["exchange-delete", "logs"])
        .assert()
        .code(2);
    let a = rmq_url(&url)
        .args(["exchange-delete", "logs", "--if-unused", "--yes"])
        .assert()
        .code(6);
    assert!(stderr_of(&a).contains("in use"), "{}", stderr_of(&a));
    assert!(exchange(b, &vh, "logs").is_some());
    rmq_url(&url)
        .args(["exchange-delete", "logs", "--yes"])
        .assert()
        .success();
    assert!(exchange(b, &vh, "logs").is_none());
    assert!(
        bindings_of_queue(b, &vh, "q")
            .iter()
            .all(|b| b["source"] == "")
    );
    rmq_url(&url)
        .args(["exchange-delete", "logs", "--yes"])
        .assert()
        .code(5);
    rmq_url(&url)
        .args(["exchange-delete", "amq.direct", "--yes"])
        .assert()
        .code(4);
}

fn bindings_of_queue(b: &Broker, vh: &str, q: &str) -> Vec<Value> {
    b.api_get(&format!(
        "queues/{}/{}/bindings",
        pct_encode(vh),
        pct_encode(q)
    ))
    .as_array()
    .unwrap()
    .clone()
}

#[test]
fn queue_delete_if_empty_works_for_quorum_queues_too() {
    // RabbitMQ 3.10 refuses if-empty/if-unused on quorum queues by closing the connection
    // (540 NOT_IMPLEMENTED); rmq checks the counts itself instead.
    let (b, vh, url) = setup("qdelquorum");
    rmq_url(&url)
        .args(["queue-declare", "qq", "--quorum"])
        .assert()
        .success();
    send(&url, &["-Q", "qq", "x"]);
    rmq_url(&url)
        .args(["queue-delete", "qq", "--if-empty", "-y"])
        .assert()
        .code(6);
    assert!(b.queue_info(&vh, "qq").is_some());
    rmq_url(&url)
        .args(["queue-purge", "qq", "-y"])
        .assert()
        .success();
    rmq_url(&url)
        .args(["queue-delete", "qq", "--if-empty", "--if-unused", "-y"])
        .assert()
        .success();
    assert!(b.queue_info(&vh, "qq").is_none());
}
