//! `rmq top` without a broker: its options are checked before anything is asked, and on a
//! pipe an API that cannot be reached is exit 3 (not a screen that retries).

use crate::support::rmq;

/// Nothing listens there: a run that gets past parsing fails fast.
const DEAD_API: &str = "http://127.0.0.1:1";

fn usage_error(args: &[&str]) -> String {
    let out = rmq()
        .args(["--api-url", DEAD_API, "top"])
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "top {args:?}: {err}");
    assert!(out.stdout.is_empty(), "top {args:?} wrote to stdout");
    err
}

#[test]
fn interval_sort_and_filter_are_checked_before_polling() {
    assert!(usage_error(&["--interval", "0"]).contains("must be greater than 0"));
    assert_eq!(
        usage_error(&["--interval", "-1"]),
        "rmq: error: --interval must be a number of seconds > 0, got '-1'\n"
    );
    assert!(usage_error(&["--interval", "soon"]).contains("expected a number of seconds"));
    assert!(usage_error(&["--sort", "size"]).contains("[possible values: messages, rate, name]"));
    assert!(usage_error(&["--filter", "("]).contains("invalid regular expression"));
}

#[test]
fn on_a_pipe_an_unreachable_api_is_exit_3() {
    let out = rmq()
        .args(["--api-url", DEAD_API, "top", "--interval", "0.1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.contains("cannot reach the management API at http://127.0.0.1:1"),
        "{err}"
    );
}
