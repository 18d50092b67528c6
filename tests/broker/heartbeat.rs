//! The AMQP heartbeat rmq asks for: 30 s by default, the URL's `?heartbeat=`, and
//! `--heartbeat` over both; the broker's view of each connection is the ground truth.

use crate::support::{rmq_std, setup, wait_until};
use std::process::Stdio;
use std::time::Duration;

/// The heartbeat (connection `timeout`) the broker agreed for a `receive` started with
/// `extra` arguments and URL `url`.
fn negotiated(b: &crate::support::Broker, vhost: &str, url: &str, extra: &[&str]) -> u64 {
    let mut child = rmq_std()
        .args(["--url", url])
        .args(extra)
        .args(["receive", "-Q", "hb", "--timeout", "30"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let path = format!("/vhosts/{}/connections", crate::support::pct_encode(vhost));
    let mut timeout = None;
    wait_until(Duration::from_secs(20), "the connection in the API", || {
        timeout = b
            .api_get(&path)
            .as_array()
            .and_then(|a| a.first().cloned())
            .and_then(|c| c["timeout"].as_u64());
        timeout.is_some()
    });
    child.kill().ok();
    child.wait().ok();
    wait_until(Duration::from_secs(20), "the connection gone", || {
        b.api_get(&path).as_array().is_some_and(|a| a.is_empty())
    });
    timeout.unwrap_or_default()
}

#[test]
fn heartbeat_defaults_to_30_s_and_the_flag_beats_the_url() {
    let (b, vhost, url) = setup("heartbeat");
    assert_eq!(negotiated(b, &vhost, &url, &[]), 30);
    let with_query = format!("{url}?heartbeat=9");
    assert_eq!(negotiated(b, &vhost, &with_query, &[]), 9);
    assert_eq!(negotiated(b, &vhost, &with_query, &["--heartbeat", "7"]), 7);
}
