//! Errors raised while consuming or publishing name the vhost they happened in (they once
//! said "vhost ''": the consumer's and publisher's channels did not know it).

use crate::support::{rmq_std, rmq_url, setup, wait_until};
use std::process::Stdio;
use std::time::Duration;

#[test]
fn consume_refused_by_the_broker_names_the_vhost() {
    let (b, vhost, url) = setup("errors_name_the_vhost");
    // A subscriber's server-named queue is exclusive to its connection.
    let mut holder = rmq_std()
        .args(["--url", &url, "receive", "-e", "amq.fanout"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let path = format!("/queues/{}", crate::support::pct_encode(&vhost));
    let mut queue = String::new();
    wait_until(Duration::from_secs(20), "the subscriber's queue", || {
        let list = b.api_get(&path);
        if let Some(q) = list.as_array().and_then(|a| a.first()) {
            queue = q["name"].as_str().unwrap_or_default().to_string();
        }
        !queue.is_empty()
    });
    let out = rmq_url(&url)
        .args(["receive", "--no-declare", "-Q", &queue])
        .args(["-n", "1", "--timeout", "5"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    holder.kill().ok();
    holder.wait().ok();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains(&format!("in vhost '{vhost}'")), "{err}");
    assert!(!err.contains("vhost ''"), "{err}");
}
