//! Admin and listing commands against a management API that fails the quiet ways (a 500, an
//! answer later than the request timeout, a body cut off mid-way or stalling there, a
//! chunked body never finished, a connection accepted and never answered), through the fake API of
//! tests/support/http_fault.rs: each run ends (no hang) with the fault's exit code and a
//! one-line error (plus the usual `hint:` line) that names the API and what went wrong,
//! never a password.

use crate::support::http_fault::{Fault, FaultServer, REASON_500};
use crate::support::rmq;
use std::time::{Duration, Instant};

const API_SECRET: &str = "Api-S3cr3t-plugh";
const AMQP_SECRET: &str = "Amqp-S3cr3t-xyzzy";
/// `RMQ_API_TIMEOUT` for these runs: short, so that the slow faults end quickly.
const API_TIMEOUT: u64 = 2;
/// The slow answer comes this long after the request: well past the timeout.
const SLOW: Duration = Duration::from_secs(3 * API_TIMEOUT);

/// One command of each kind: listings (streamed and buffered), the overview, health checks,
/// the definitions, the bulk delete, a close and a user's declaration.
fn commands() -> Vec<(&'static str, Vec<&'static str>, Option<&'static str>)> {
    vec![
        ("list-queues", vec!["list-queues"], None),
        ("list-connections", vec!["list-connections"], None),
        ("overview", vec!["overview"], None),
        ("health-check", vec!["health-check"], None),
        ("definitions-export", vec!["definitions-export"], None),
        (
            "queue-delete --pattern",
            vec!["queue-delete", "--pattern", "^tmp-", "--yes"],
            None,
        ),
        (
            "close-connection",
            vec![
                "close-connection",
                "127.0.0.1:5000 -> 127.0.0.1:5672",
                "--yes",
            ],
            None,
        ),
        (
            "user-declare",
            vec!["user-declare", "alice", "--password-stdin"],
            Some("alice-pw-S3cr3t\n"),
        ),
    ]
}

/// The faults, each with the exit code it must give and words the error must contain.
fn faults() -> Vec<(Fault, i32, &'static [&'static str])> {
    vec![
        (Fault::Status500, 1, &["HTTP 500", REASON_500]),
        (Fault::Slow(SLOW), 3, &["no answer within 2 s"]),
        (Fault::Silent, 3, &["no answer within 2 s"]),
        (Fault::HalfBody, 3, &["closed"]),
        (Fault::StalledBody, 3, &["did not arrive whole within 2 s"]),
        (Fault::TruncatedChunked, 3, &["closed"]),
    ]
}

fn leaks(text: &str) -> bool {
    ["S3cr3t", API_SECRET, AMQP_SECRET]
        .iter()
        .any(|s| text.contains(s))
}

/// Run one command against one fault; a description of each broken promise.
fn check(
    fault: Fault,
    code: i32,
    words: &[&str],
    name: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Vec<String> {
    let server = FaultServer::start(fault);
    let api = server.url_with("admin", API_SECRET);
    let url = format!("amqp://guest:{AMQP_SECRET}@127.0.0.1:1/");
    let mut cmd = rmq();
    cmd.timeout(Duration::from_secs(30))
        .env("RMQ_API_TIMEOUT", API_TIMEOUT.to_string())
        .args(["--url", &url, "--api-url", &api, "--connect-timeout", "2"])
        .args(args);
    if let Some(s) = stdin {
        cmd.write_stdin(s);
    }
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let all = format!("{}{err}", String::from_utf8_lossy(&out.stdout));
    let what = format!("{name} / {fault:?}");
    eprintln!(
        "api fault: {what}: exit {:?} after {took:.1?}\n{err}",
        out.status.code()
    );
    let mut broken = Vec::new();
    if out.status.code().is_none() {
        broken.push(format!("{what}: hung (killed after {took:?}): {err}"));
        return broken;
    }
    if out.status.code() != Some(code) {
        broken.push(format!(
            "{what}: exit {:?}, wanted {code}: {err}",
            out.status.code()
        ));
    }
    let lines: Vec<&str> = err.lines().collect();
    let shape_ok = match lines.as_slice() {
        [e] => e.starts_with("rmq: error: "),
        [e, h] => e.starts_with("rmq: error: ") && h.starts_with("  hint: "),
        _ => false,
    };
    if !shape_ok {
        broken.push(format!("{what}: not one error line (plus a hint):\n{err}"));
    }
    let first = lines.first().copied().unwrap_or("");
    if !first.contains("management API at http://") {
        broken.push(format!("{what}: the error does not name the API: {first}"));
    }
    for w in words {
        if !first.contains(w) {
            broken.push(format!("{what}: '{w}' missing from: {first}"));
        }
    }
    if leaks(&all) {
        broken.push(format!("{what}: a password shows:\n{all}"));
    }
    if all.contains("panicked") {
        broken.push(format!("{what}: panic:\n{all}"));
    }
    if server.requests() == 0 {
        broken.push(format!("{what}: the fake API got no request"));
    }
    broken
}

#[test]
fn admin_commands_fail_in_one_line_with_the_right_code_on_every_api_fault() {
    // Each (command, fault) pair against its own fake API, a few at a time: most of a
    // slow run is waiting for the timeout.
    let mut cases = Vec::new();
    for (fault, code, words) in faults() {
        for (name, args, stdin) in commands() {
            cases.push((fault, code, words, name, args, stdin));
        }
    }
    let mut broken = Vec::new();
    for batch in cases.chunks(8) {
        let results: Vec<Vec<String>> = std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .iter()
                .map(|(f, c, w, n, a, i)| s.spawn(move || check(*f, *c, w, n, a, *i)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        broken.extend(results.into_iter().flatten());
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn a_bad_api_timeout_is_a_usage_error_naming_the_variable() {
    let server = FaultServer::start(Fault::Status500);
    let out = rmq()
        .env("RMQ_API_TIMEOUT", "-3")
        .args([
            "--api-url",
            &server.url_with("admin", API_SECRET),
            "overview",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("RMQ_API_TIMEOUT") && err.contains("'-3'"),
        "{err}"
    );
    assert_eq!(server.requests(), 0);
}
