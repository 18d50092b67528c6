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
