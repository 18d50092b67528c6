//! `--filter EXPR` usage errors: a malformed expression is exit 2, on one line naming where
//! it is wrong, before any connection. Matching itself is tested in src/filter.rs and
//! against a broker in tests/broker/filter.rs.

use std::net::TcpListener;
use std::process::Output;

fn rmq(url: &str, args: &[&str]) -> Output {
    crate::support::rmq_std()
        .arg("--url")
        .arg(url)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn malformed_filter_exits_2_naming_the_position_without_connecting() {
    // A listener that records any connection: there must be none.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!(
        "amqp://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    for (expr, position) in [
        (r#".routing_key | startswith("eu.""#, "'(' at column 26"),
        (".headers.tenant ==", "column 19"),
        ("(.body | fromjson? | .amount > 100", "column 1"),
        (".a | nosuchfilter", "column 6"),
        (".a |\n| .b", "line 2, column 1"),
    ] {
        for cmd in [
            &["peek", "-Q", "q"][..],
            &["move", "--from", "a", "--to", "b"][..],
        ] {
            let out = rmq(&url, &[cmd, &["--filter", expr]].concat());
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(2), "{expr:?}: {err}");
            assert!(out.stdout.is_empty(), "{expr:?}");
            assert_eq!(err.lines().count(), 1, "{expr:?}: {err}");
            assert!(err.starts_with("rmq: error: invalid --filter"), "{err}");
            assert!(err.contains(position), "{expr:?}: {err}");
            let first_line = expr.lines().next().unwrap();
            assert!(err.contains(first_line), "{expr:?} not named: {err}");
        }
    }
    assert!(
        listener.accept().is_err(),
        "rmq connected before rejecting the filter"
    );
}

#[test]
fn peek_valid_filter_goes_on_to_connect() {
    // Port 1: nothing listens, so a valid filter gets as far as connecting (exit 3).
    let out = rmq(
        "amqp://127.0.0.1:1/",
        &["peek", "--filter", r#".headers.tenant == "acme""#],
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(3), "{err}");
}

#[test]
fn receive_queue_with_a_filter_is_refused_before_connecting() {
    let out = crate::support::rmq_std()
        .args([
            "--url",
            "amqp://guest:guest@127.0.0.1:1/%2f",
            "receive",
            "-Q",
            "q",
        ])
        .args(["--filter", ".x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rmq peek"));
}
