//! Bad input that needs no broker, case by case: each is refused before any connection with
//! exit 2 and at most two lines of error that name the input, no panic, no password.

use crate::support::rmq;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

const SECRET: &str = "pw-Xy7Secret";

fn long(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

/// (args, a piece of text the error must contain)
fn cases() -> Vec<(Vec<OsString>, String)> {
    let mut v: Vec<(Vec<&str>, String)> = Vec::new();
    let url = |u: &str| format!("amqp://user:{SECRET}@{u}");
    let urls: Vec<(String, &str)> = vec![
        (
            format!("ftp://user:{SECRET}@h/"),
            "unsupported scheme 'ftp'",
        ),
        (
            url("h:0/"),
            "port must be a number from 1 to 65535, got '0'",
        ),
        (url("h:70000/"), "got '70000'"),
        (url("h:port/"), "got 'port'"),
        (url("h/?frob=1"), "unknown query parameter 'frob'"),
        (url("h/?heartbeat=soon"), "heartbeat must be a whole number"),
        (url("h/?heartbeat=70000"), "heartbeat must be at most 65535"),
        (
            url("h/?frame_max=100"),
            "frame_max must be 0 or at least 4096",
        ),
        (
            url("h/?auth_mechanism=kerberos"),
            "auth_mechanism 'kerberos'",
        ),
        (
            url("h/?verify=maybe"),
            "verify must be verify_peer or verify_none",
        ),
        (url("h/%zz"), "bad %-escape in the vhost"),
        (url("h/a/b"), "one path segment"),
        (url("[::1/"), "unclosed '['"),
        (format!("user:{SECRET}@localhost"), "expected amqp://"),
        (format!("amqp:/user:{SECRET}@h"), "expected amqp://"),
    ];
    let urls: Vec<(Vec<String>, String)> = urls
        .into_iter()
        .map(|(u, want)| {
            (
                vec!["--url".into(), u, "send".into(), "x".into()],
                want.into(),
            )
        })
        .collect();
    let k300 = format!("{}=v", long('k', 300));
    let q300 = long('q', 300);
    let huge_value = format!("k={}", long('v', 120_000));
    let two_huge = vec![
        "send".to_string(),
        "-H".into(),
        huge_value.clone(),
        "-H".into(),
        format!("k2={}", long('v', 120_000)),
        "x".into(),
    ];
    v.extend([
        (
            vec!["send", "-H", "novalue", "x"],
            "expected key=value".into(),
        ),
        (vec!["send", "-H", "=v", "x"], "empty key".into()),
        (
            vec!["send", "-H", &k300, "x"],
            "key longer than 255 bytes".into(),
        ),
        (
            vec!["queue-declare", "q", "--arg", "x-max-length"],
            "expected key=value".into(),
        ),
        (
            vec!["queue-declare", "q", "--arg", "=1"],
            "empty key".into(),
        ),
        (
            vec!["bind", "-Q", "q", "-e", "x", "--header", "novalue"],
            "expected key=value".into(),
        ),
        (vec!["send", "--priority", "300", "x"], "'300'".into()),
        (vec!["send", "--priority", "-1", "x"], "'-1'".into()),
        (vec!["send", "--expiration", "-5", "x"], "'-5'".into()),
        (vec!["send", "--expiration", "soon", "x"], "'soon'".into()),
        (
            vec!["send", "-Q", &q300, "x"],
            "longer than 255 bytes".into(),
        ),
        (
            vec!["send", "-e", &q300, "x"],
            "longer than 255 bytes".into(),
        ),
        (
            vec!["send", "-e", "x", "-k", &q300, "y"],
            "longer than 255 bytes".into(),
        ),
        (vec!["queue-declare", &q300], "longer than 255 bytes".into()),
        (
            vec!["send", "--content-type", &q300, "x"],
            "content-type".into(),
        ),
        (
            vec!["send", "--message-id", &q300, "x"],
            "message-id".into(),
        ),
        (vec!["--vhost", &q300, "send", "x"], "vhost".into()),
        (vec!["--port", "0", "send", "x"], "'0'".into()),
        (vec!["--connect-timeout", "-1", "send", "x"], "'-1'".into()),
        (vec!["send", "--repeat", "0", "x"], "'0'".into()),
        (vec!["send", "--timeout", "0", "x"], "'0'".into()),
        (vec!["receive", "--prefetch", "0"], "'0'".into()),
        (vec!["receive", "--timeout", "soon"], "'soon'".into()),
        (
            vec!["--password-file", "/nonexistent/pw", "send", "x"],
            "cannot read --password-file '/nonexistent/pw'".into(),
        ),
    ]);
    let mut out: Vec<(Vec<OsString>, String)> = v
        .into_iter()
        .map(|(a, w)| (a.into_iter().map(OsString::from).collect(), w))
        .collect();
    out.extend(
        urls.into_iter()
            .map(|(a, w)| (a.into_iter().map(OsString::from).collect(), w)),
    );
    out.push((
        two_huge.into_iter().map(OsString::from).collect(),
        "the headers take".into(),
    ));
    // Non-UTF-8 where text is required (a BODY word may be any bytes).
    for (args, want) in [
        (
            vec![os(b"send"), os(b"-Q"), os(b"q\xff"), os(b"x")],
            "the value of -Q",
        ),
        (
            vec![os(b"--url"), os(b"amqp://h/\xfe"), os(b"send"), os(b"x")],
            "the value of --url",
        ),
        (
            vec![os(b"send"), os(b"-H"), os(b"k=\xff"), os(b"x")],
            "the value of -H",
        ),
        (
            vec![os(b"receive"), os(b"--queue"), os(b"\xc3\x28")],
            "the value of --queue",
        ),
    ] {
        out.push((args, want.to_string()));
    }
    out
}

#[test]
fn bad_input_is_refused_before_connecting_with_exit_2_and_a_short_error_naming_it() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (args, want) in &cases {
        // support::rmq(): no RMQ_*/AMQP_* from the caller, a test HOME, bounded.
        let out = rmq()
            .args(args)
            // A port nothing listens on: these must fail before any connect.
            .env("RMQ_URL", "amqp://127.0.0.1:1/")
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                let s = a.to_string_lossy();
                if s.len() > 40 {
                    format!("{}...", &s[..s.floor_char_boundary(40)])
                } else {
                    s.into_owned()
                }
            })
            .collect();
        // clap adds "For more information, try '--help'." and sometimes a usage line.
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| {
                !l.trim().is_empty()
                    && !l.starts_with("For more information")
                    && !l.starts_with("Usage:")
                    && !l.trim_start().starts_with("tip:")
            })
            .collect();
        let problems = [
            (out.status.code() != Some(2), "exit code is not 2"),
            (
                !err.contains(want.as_str()),
                "error does not name the input",
            ),
            (lines.len() > 2, "more than 2 lines"),
            (err.contains("panicked"), "panic"),
            (err.contains(SECRET), "password shown"),
            (err.len() > 600, "error longer than 600 bytes"),
        ];
        for (bad, what) in problems {
            if bad {
                failures.push(format!(
                    "{shown:?}: {what} (exit {:?}; wanted {want:?}):\n{err}",
                    out.status.code()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
