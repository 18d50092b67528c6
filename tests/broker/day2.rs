//! Day-2 administration through the management API (issue 14): `--columns`, the new
//! listings, checked against the API itself.

use crate::support::{Broker, rmq, unique_name, wait_until};
use serde_json::Value;
use std::time::Duration;

fn setup(name: &str) -> (&'static Broker, String, String, String) {
    let b = Broker::shared();
    let vh = b.vhost(&unique_name(name));
    (b, vh.clone(), b.amqp_url(&vh), b.api_url())
}

fn out(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn err(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

fn json(url: &str, api: &str, args: &[&str]) -> Value {
    let a = rmq()
        .args(["--url", url, "--api-url", api, "--json"])
        .args(args)
        .assert()
        .success();
    serde_json::from_str(&out(&a)).unwrap()
}

#[test]
fn columns_pick_and_order_fields_and_unknown_ones_exit_2_listing_the_valid() {
    let (_b, _vh, url, api) = setup("cols");
    rmq()
        .args(["--url", &url, "queue-declare", "c1", "--durable"])
        .assert()
        .success();
    let a = rmq()
        .args(["--url", &url, "--api-url", &api])
        .args(["list-queues", "--columns", "durable,name"])
        .assert()
        .success();
    assert_eq!(out(&a), "durable\tname\ntrue\tc1\n");
    let v = json(&url, &api, &["list-queues", "--columns", "name,type"]);
    assert_eq!(v, serde_json::json!([{"name": "c1", "type": "classic"}]));
    let a = rmq()
        .args(["--url", &url, "--api-url", &api])
        .args(["list-exchanges", "--columns", "name,bogus"])
        .assert()
        .code(2);
    let e = err(&a);
    assert!(e.contains("unknown column 'bogus'"), "{e}");
    assert!(e.contains("valid columns: vhost, name, type"), "{e}");
    let a = rmq()
        .args(["--url", &url, "--api-url", &api])
        .args(["list-bindings", "--columns", "destination,routing_key"])
        .assert()
        .success();
    assert_eq!(out(&a), "destination\trouting_key\nc1\tc1\n");
}

#[test]
fn listings_show_a_consuming_client_as_the_api_does() {
    let (b, vh, url, api) = setup("lists");
    let mut child = crate::support::rmq_std()
        .args([
            "--url",
            &url,
            "receive",
            "-Q",
            "lq",
            "--prefetch",
            "7",
            "--timeout",
            "30",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let enc = crate::support::pct_encode(&vh);
    // The consumer, and its connection with the client's properties (a busy broker shows
    // the connection a moment before its details).
    wait_until(Duration::from_secs(30), "the consumer in the API", || {
        b.api_get(&format!("consumers/{enc}"))
            .as_array()
            .is_some_and(|a| !a.is_empty())
            && b.api_get(&format!("vhosts/{enc}/connections"))[0]["client_properties"]["product"]
                .is_string()
    });
    let truth = b.api_get(&format!("vhosts/{enc}/connections"));
    let conn = &truth[0];
    let product = conn["client_properties"]["product"].as_str().unwrap();
    let v = json(&url, &api, &["list-connections"]);
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["name"], conn["name"]);
    assert_eq!(v[0]["user"], "guest");
    assert_eq!(v[0]["vhost"], vh.as_str());
    assert!(v[0]["client"].as_str().unwrap().starts_with(product), "{v}");
    assert_eq!(
        v[0]["peer"],
        format!(
            "{}:{}",
            conn["peer_host"].as_str().unwrap(),
            conn["peer_port"]
        )
    );
    // The broker's numbers pass through unrounded.
    assert_eq!(v[0]["recv_oct"].is_number(), conn["recv_oct"].is_number());

    let a = rmq()
        .args(["--url", &url, "--api-url", &api, "list-consumers"])
        .assert()
        .success();
    let text = out(&a);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("queue\tconsumer_tag\tchannel\tack_mode\tprefetch")
    );
    let row: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(row[0], "lq");
    assert_eq!(row[3], "manual");
    assert_eq!(row[4], "7");

    let ch = json(
        &url,
        &api,
        &["list-channels", "--columns", "connection,consumers"],
    );
    assert_eq!(ch[0]["connection"], conn["name"]);
    assert_eq!(ch[0]["consumers"], 1);

    let vs = json(&url, &api, &["list-vhosts", "--filter", &format!("^{vh}$")]);
    assert_eq!(vs[0]["name"], vh.as_str());
    let us = json(&url, &api, &["list-users"]);
    let guest = us
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "guest")
        .expect("guest");
    assert!(guest["tags"].as_str().unwrap().contains("administrator"));
    assert!(!out_has(&us, "password_hash"));
    let ps = json(&url, &api, &["list-permissions"]);
    assert_eq!(ps[0]["user"], "guest");
    assert_eq!(ps[0]["configure"], ".*");
    let ns = json(&url, &api, &["list-nodes"]);
    assert_eq!(ns[0]["running"], true);
    assert_eq!(ns[0]["name"], b.api_get("overview")["node"]);
    let a = rmq()
        .args(["--url", &url, "--api-url", &api, "list-policies"])
        .assert()
        .success();
    assert_eq!(
        out(&a),
        "vhost\tname\tpattern\tapply_to\tpriority\tdefinition\n"
    );
    let _ = child.kill();
    let _ = child.wait();
}

fn out_has(v: &Value, key: &str) -> bool {
    v.to_string().contains(&format!("\"{key}\""))
}

#[test]
fn health_check_passes_on_a_healthy_node_and_bad_names_exit_2() {
    let (_b, _vh, url, api) = setup("health");
    let a = rmq()
        .args(["--url", &url, "--api-url", &api, "health-check"])
        .assert()
        .success();
    let text = out(&a);
    assert!(text.starts_with("check\tstatus\treason\n"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains("\tok\t")).count(),
        6,
        "{text}"
    );
    rmq()
        .args(["--url", &url, "--api-url", &api, "health-check", "bogus"])
        .assert()
        .code(2);
    // Nothing listens there: unreachable, exit 3.
    rmq()
        .args([
            "--url",
            &url,
            "--api-url",
            "http://127.0.0.1:9",
            "health-check",
            "alarms",
        ])
        .assert()
        .code(3);
}

#[test]
fn health_check_alarms_exits_9_during_a_memory_alarm_naming_it() {
    let Some(b) = Broker::dedicated() else {
        eprintln!("skipped: external broker");
        return;
    };
    let url = b.amqp_url("/");
    let api = b.api_url();
    let set = |w: &str| {
        let o = b.rabbitmqctl(&["set_vm_memory_high_watermark", w]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    set("0.0001");
    let mut result = None;
    wait_until(
        Duration::from_secs(30),
        "health-check alarms to fail",
        || {
            let a = rmq()
                .args(["--url", &url, "--api-url", &api, "health-check", "alarms"])
                .assert();
            let done = a.get_output().status.code() == Some(9);
            result = Some(a);
            done
        },
    );
    set("0.4");
    let a = result.unwrap();
    let e = err(&a);
    assert!(e.contains("alarms") && e.contains("memory on"), "{e}");
    assert!(out(&a).contains("alarms\tfailed\t"), "{}", out(&a));
    wait_until(Duration::from_secs(30), "the alarm to clear", || {
        rmq()
            .args(["--url", &url, "--api-url", &api, "health-check", "alarms"])
            .assert()
            .get_output()
            .status
            .success()
    });
}

#[test]
fn overview_shows_versions_nodes_and_totals_as_the_api_does() {
    let (b, _vh, url, api) = setup("overview");
    let truth = b.api_get("overview");
    let v = json(&url, &api, &["overview"]);
    assert_eq!(v["rabbitmq_version"], truth["rabbitmq_version"]);
    assert_eq!(v["erlang_version"], truth["erlang_version"]);
    assert_eq!(v["cluster_name"], truth["cluster_name"]);
    assert_eq!(v["nodes"][0]["name"], truth["node"]);
    assert_eq!(v["nodes"][0]["running"], true);
    assert!(v["totals"]["queues"].is_number(), "{v}");
    let a = rmq()
        .args(["--url", &url, "--api-url", &api, "overview"])
        .assert()
        .success();
    let text = out(&a);
    let version = truth["rabbitmq_version"].as_str().unwrap();
    assert!(text.contains(&format!("RabbitMQ {version}")), "{text}");
    assert!(text.contains("running, no alarms"), "{text}");
}

fn admin(url: &str, api: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    rmq()
        .args(["--url", url, "--api-url", api])
        .args(args)
        .assert()
}

#[test]
fn users_permissions_and_vhosts_change_what_the_api_shows_and_who_may_do_what() {
    let (b, vh, url, api) = setup("users");
    let user = unique_name("u");
    let secret = format!("S3cr3t-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{secret}\n")).unwrap();
    let pw = pw.to_str().unwrap();
    // No password source: exit 2.
    admin(&url, &api, &["user-declare", &user]).code(2);
    let a = admin(
        &url,
        &api,
        &[
            "user-declare",
            &user,
            "--password-file",
            pw,
            "--tags",
            "management",
        ],
    )
    .success();
    let mut seen = out(&a) + &err(&a);
    let truth = b.api_get(&format!("users/{}", crate::support::pct_encode(&user)));
    assert!(truth["tags"].to_string().contains("management"), "{truth}");
    // Permissions: publish only to 'allowed'.
    admin(
        &url,
        &api,
        &[
            "permissions-set",
            "-u",
            &user,
            "--configure",
            "^allowed$",
            "--write",
            "^(allowed|amq\\.default)$",
            "--read",
            "^allowed$",
        ],
    )
    .success();
    let p = b.api_get(&format!(
        "permissions/{}/{}",
        crate::support::pct_encode(&vh),
        crate::support::pct_encode(&user)
    ));
    assert_eq!(p["write"], "^(allowed|amq\\.default)$");
    let as_user = |args: &[&str]| {
        rmq()
            .args(["--url", &url, "--user", &user, "--password-file", pw])
            .args(args)
            .assert()
    };
    let a = as_user(&["send", "-Q", "allowed", "hi"]).success();
    seen += &(out(&a) + &err(&a));
    let a = as_user(&["send", "-Q", "forbidden", "hi"]).code(4);
    seen += &(out(&a) + &err(&a));
    assert_eq!(b.queue_messages(&vh, "allowed"), 1);
    admin(&url, &api, &["permissions-clear", "-u", &user]).success();
    let a = as_user(&["send", "-Q", "allowed", "again"]).code(4);
    seen += &(out(&a) + &err(&a));
    admin(&url, &api, &["permissions-clear", "-u", &user]).code(5);
    admin(&url, &api, &["user-delete", &user]).code(2); // no --yes, no terminal
    admin(&url, &api, &["user-delete", &user, "--yes"]).success();
    admin(&url, &api, &["user-delete", &user, "--yes"]).code(5);
    assert!(!seen.contains(&secret), "the password was printed: {seen}");

    // Vhosts.
    let v2 = unique_name("vh2");
    admin(&url, &api, &["vhost-declare", &v2]).success();
    b.api_get(&format!("vhosts/{}", crate::support::pct_encode(&v2)));
    admin(&url, &api, &["vhost-delete", &v2]).code(2);
    admin(&url, &api, &["vhost-delete", &v2, "--yes"]).success();
    let (code, _) = b.api_request(
        "GET",
        &format!("vhosts/{}", crate::support::pct_encode(&v2)),
        None,
    );
    assert_eq!(code, 404);
    admin(&url, &api, &["vhost-delete", &v2, "--yes"]).code(5);
}

#[test]
fn a_policy_with_a_message_ttl_applies_to_matching_queues() {
    let (b, vh, url, api) = setup("policy");
    admin(&url, &api, &["queue-declare", "cache.a"]).success();
    admin(&url, &api, &["queue-declare", "other"]).success();
    admin(
        &url,
        &api,
        &[
            "policy-declare",
            "ttl",
            "--pattern",
            "^cache\\.",
            "--apply-to",
            "queues",
            "--definition",
            "message-ttl=60000",
        ],
    )
    .success();
    let p = b.api_get(&format!("policies/{}/ttl", crate::support::pct_encode(&vh)));
    assert_eq!(p["definition"]["message-ttl"], 60000, "{p}");
    assert_eq!(p["apply-to"], "queues");
    wait_until(
        Duration::from_secs(30),
        "list-queues to show the policy",
        || {
            let v = json(&url, &api, &["list-queues", "--columns", "name,policy"]);
            v == serde_json::json!([{"name": "cache.a", "policy": "ttl"}, {"name": "other", "policy": null}])
        },
    );
    let v = json(&url, &api, &["list-policies"]);
    assert_eq!(v[0]["name"], "ttl");
    assert_eq!(v[0]["apply_to"], "queues");
    // A bad key: the broker's words, exit 2.
    let a = admin(
        &url,
        &api,
        &[
            "policy-declare",
            "bad",
            "--pattern",
            ".*",
            "--definition",
            "message-ttl=soon",
        ],
    )
    .code(2);
    assert!(err(&a).contains("policy 'bad'"), "{}", err(&a));
    admin(&url, &api, &["policy-delete", "ttl"]).success();
    admin(&url, &api, &["policy-delete", "ttl"]).code(5);
}

#[test]
fn close_connection_closes_a_client_which_sees_the_reason_and_unknown_names_exit_5() {
    let (b, vh, url, api) = setup("close");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr");
    let mut child = crate::support::rmq_std()
        .args(["--url", &url, "receive", "-Q", "cq", "--timeout", "30"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let enc = crate::support::pct_encode(&vh);
    let mut name = String::new();
    wait_until(Duration::from_secs(30), "the client's connection", || {
        let v = b.api_get(&format!("vhosts/{enc}/connections"));
        match v[0]["name"].as_str() {
            Some(n) => {
                name = n.to_string();
                true
            }
            None => false,
        }
    });
    let listed = json(
        &url,
        &api,
        &["list-connections", "--columns", "name,client"],
    );
    assert_eq!(listed[0]["name"], name.as_str());
    assert!(listed[0]["client"].is_string(), "{listed}");
    admin(&url, &api, &["close-connection", &name]).code(2); // no --yes, no terminal
    admin(
        &url,
        &api,
        &["close-connection", "no such connection", "--yes"],
    )
    .code(5);
    admin(
        &url,
        &api,
        &[
            "close-connection",
            &name,
            "--reason",
            "maintenance-window",
            "--yes",
        ],
    )
    .success();
    wait_until(
        Duration::from_secs(30),
        "the client to see the reason",
        || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("maintenance-window")
        },
    );
    wait_until(Duration::from_secs(30), "the connection to be gone", || {
        !b.api_get(&format!("vhosts/{enc}/connections"))
            .to_string()
            .contains(&format!("\"{name}\""))
    });
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn definitions_export_delete_import_round_trips_and_dry_run_changes_nothing() {
    let (b, vh, url, api) = setup("defs");
    admin(
        &url,
        &api,
        &["queue-declare", "dq", "--durable", "--message-ttl", "5000"],
    )
    .success();
    admin(
        &url,
        &api,
        &["exchange-declare", "dx", "-t", "topic", "--durable"],
    )
    .success();
    admin(&url, &api, &["bind", "-Q", "dq", "-e", "dx", "-k", "a.*"]).success();
    admin(
        &url,
        &api,
        &[
            "policy-declare",
            "p",
            "--pattern",
            "^dq$",
            "--definition",
            "max-length=9",
        ],
    )
    .success();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("defs.json");
    let f = file.to_str().unwrap();
    admin(&url, &api, &["--vhost", &vh, "definitions-export", "-o", f]).success();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let enc = crate::support::pct_encode(&vh);
    let before = b.api_get(&format!("definitions/{enc}"));
    let exported: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(exported, before);

    admin(&url, &api, &["vhost-delete", &vh, "--yes"]).success();
    admin(&url, &api, &["vhost-declare", &vh]).success();
    b.api_put(
        &format!("permissions/{}/guest", crate::support::pct_encode(&vh)),
        &serde_json::json!({"configure": ".*", "write": ".*", "read": ".*"}),
    );
    let a = admin(
        &url,
        &api,
        &["--vhost", &vh, "definitions-import", f, "--dry-run"],
    )
    .success();
    let plan = out(&a);
    assert!(plan.contains("create\tqueues\tdq"), "{plan}");
    assert!(
        plan.contains(&format!("create\tpolicies\t{vh} p")),
        "{plan}"
    );
    assert_eq!(b.api_get(&format!("queues/{enc}")), serde_json::json!([]));
    admin(&url, &api, &["--vhost", &vh, "definitions-import", f]).success();
    assert_eq!(b.api_get(&format!("definitions/{enc}")), before);
    let a = admin(
        &url,
        &api,
        &["--vhost", &vh, "definitions-import", f, "--dry-run"],
    )
    .success();
    assert_eq!(out(&a), "action\tkind\tname\n");

    std::fs::write(&file, "{\n  \"queues\": [\n    {\"name\": }\n  ]\n}\n").unwrap();
    let a = admin(&url, &api, &["--vhost", &vh, "definitions-import", f]).code(2);
    assert!(err(&a).contains("line 3"), "{}", err(&a));
}

#[test]
fn queue_delete_and_purge_by_pattern_list_then_act_and_dry_run_changes_nothing() {
    let (b, vh, url, api) = setup("bulk");
    for q in ["tmp.a", "tmp.b", "keep"] {
        admin(&url, &api, &["send", "-Q", q, "m"]).success();
    }
    let a = admin(
        &url,
        &api,
        &["queue-delete", "--pattern", "^tmp\\.", "--dry-run"],
    )
    .success();
    let listed: Vec<String> = out(&a)
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    assert_eq!(listed, ["tmp.a", "tmp.b"]);
    assert!(b.queue_info(&vh, "tmp.a").is_some());
    admin(&url, &api, &["queue-purge", "--pattern", "^tmp\\."]).code(2); // no --yes
    admin(
        &url,
        &api,
        &["queue-purge", "--pattern", "^tmp\\.", "--yes"],
    )
    .success();
    assert_eq!(b.queue_messages(&vh, "tmp.a"), 0);
    assert_eq!(b.queue_messages(&vh, "keep"), 1);
    admin(
        &url,
        &api,
        &["queue-delete", "--pattern", "^tmp\\.", "--yes"],
    )
    .success();
    assert!(b.queue_info(&vh, "tmp.a").is_none() && b.queue_info(&vh, "tmp.b").is_none());
    assert!(b.queue_info(&vh, "keep").is_some());
    admin(&url, &api, &["queue-delete", "keep", "--dry-run"]).code(2);
}
