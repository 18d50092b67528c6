//! list-queues prints its rows in the order the management API sends them (rmq streams them
//! instead of holding and sorting them): by vhost, then name, byte by byte, in TSV and JSON,
//! with or without the queues' statistics, and across vhosts.

use crate::support::{rmq, rmq_url, setup};
use serde_json::Value;

/// Names whose order differs by case, punctuation, digits, spaces and non-ASCII bytes,
/// declared out of order.
const NAMES: &[&str] = &[
    "b", "B", "a.b", "a", "a-b", "é", "z", "10", "9", "a b", "Z_",
];

fn run(url: &str, api: &str, args: &[&str]) -> String {
    let a = rmq()
        .args(["--url", url, "--api-url", api])
        .args(args)
        .assert()
        .success();
    let out = a.get_output();
    // No "not sorted" warning.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_names(text: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn list_queues_rows_come_sorted_by_vhost_then_name_byte_by_byte() {
    let (b, vh, url) = setup("lq-order");
    let api = b.api_url();
    for q in NAMES {
        rmq_url(&url).args(["queue-declare", q]).assert().success();
    }
    let mut expected: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    expected.sort();

    let tsv = run(&url, &api, &["list-queues"]);
    let got: Vec<&str> = tsv
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(got, expected, "{tsv}");
    // JSON: without --columns from the statistics path, with --columns from the other.
    assert_eq!(
        json_names(&run(&url, &api, &["list-queues", "--json"])),
        expected
    );
    let picked = run(&url, &api, &["list-queues", "--json", "--columns", "name"]);
    assert_eq!(json_names(&picked), expected);

    // Across vhosts: every row (other tests' vhosts too) in (vhost, name) order.
    let (_b, vh2, url2) = setup("lq-order-2");
    for q in ["zz", "a"] {
        rmq_url(&url2).args(["queue-declare", q]).assert().success();
    }
    // JSON, where names are not escaped (escaping could change their order).
    let all = run(
        &url,
        &api,
        &[
            "list-queues",
            "--all-vhosts",
            "--json",
            "--columns",
            "vhost,name",
        ],
    );
    let v: Value = serde_json::from_str(&all).unwrap();
    let field = |q: &Value, k: &str| q[k].as_str().unwrap().to_string();
    let rows: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (field(q, "vhost"), field(q, "name")))
        .collect();
    let mut sorted = rows.clone();
    sorted.sort();
    assert_eq!(rows, sorted);
    let ours = |v: &str| -> Vec<&str> {
        rows.iter()
            .filter(|(rv, _)| rv == v)
            .map(|(_, n)| n.as_str())
            .collect()
    };
    assert_eq!(ours(&vh), expected);
    assert_eq!(ours(&vh2), ["a", "zz"]);
}
