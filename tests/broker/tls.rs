//! amqps:// against a dedicated node with a TLS listener and certificates made here with
//! openssl (a CA, a server certificate for localhost/127.0.0.1, a client certificate):
//! verification on by default, --cacert to trust the CA, --insecure to skip it (with a
//! warning), a client certificate with SASL EXTERNAL, bulk traffic through TLS (full socket
//! buffers on both sides), and the management API over https.

use crate::support::tls::{CLIENT_CN, Pki};
use crate::support::{Broker, assert_success, rmq, rmq_url, wait_until};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn tls_verifies_by_default_trusts_cacert_skips_with_insecure_and_logs_in_with_a_client_cert() {
    let Some(pki) = Pki::make() else { return };
    let Some(b) = Broker::dedicated_tls(&pki) else {
        return;
    };
    let port = b.amqp_port();
    let url = format!("amqps://guest:guest@localhost:{port}/%2f");
    let ca = s(&pki.ca);
    let api_tls = b.api_tls_port().expect("management.ssl.port");

    // Verification is on: the test CA is not among the system's roots.
    let out = rmq_url(&url)
        .args(["--connect-timeout", "5", "send", "-Q", "t", "x"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("TLS handshake failed"), "{err}");
    assert!(err.contains("--cacert"), "{err}");

    // --cacert: verified, works; by IP too (the certificate names 127.0.0.1).
    for u in [
        url.clone(),
        format!("amqps://guest:guest@127.0.0.1:{port}/%2f"),
    ] {
        let out = rmq()
            .args(["--url", &u, "--cacert", &ca, "send", "-Q", "t", "one"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{u}: {err}");
        assert!(!err.contains("warning"), "{err}");
    }
    // The CA from the URL (cacertfile=) works as well.
    let with_param = format!("{url}?cacertfile={ca}");
    rmq()
        .args(["--url", &with_param, "send", "-Q", "t", "two"])
        .assert()
        .success();

    bulk_through_tls(&url, &ca);
    management_over_https(api_tls, &ca);

    // A name the certificate does not carry fails verification.
    let wrong_name = format!("{url}?server_name_indication=not-this-host");
    let out = rmq()
        .args([
            "--url",
            &wrong_name,
            "--cacert",
            &ca,
            "send",
            "-Q",
            "t",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // --insecure: no verification, and a warning says so.
    let out = rmq_url(&url)
        .args(["--insecure", "send", "-Q", "t", "three"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: --insecure"), "{err}");
    let unverified = format!("{url}?verify=verify_none");
    let out = rmq()
        .args(["--url", &unverified, "send", "-Q", "t2", "x"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: verify=verify_none"), "{err}");

    // Client certificate + SASL EXTERNAL: the CN is the user, no password.
    b.api_put(
        &format!("users/{CLIENT_CN}"),
        &json!({"password_hash": "", "tags": ""}),
    );
    b.api_put(
        &format!("permissions/%2F/{CLIENT_CN}"),
        &json!({"configure": ".*", "write": ".*", "read": ".*"}),
    );
    let external = format!("amqps://localhost:{port}/%2f?auth_mechanism=external");
    let cert_args = [
        "--cacert",
        &ca,
        "--cert",
        &s(&pki.client_cert),
        "--key",
        &s(&pki.client_key),
    ];
    let out = rmq()
        .args(["--url", &external])
        .args(cert_args)
        .args(["send", "-Q", "t", "four"])
        .output()
        .unwrap();
    assert_success(&out, "rmq send over SASL EXTERNAL");
    let out = rmq()
        .args(["--url", &external])
        .args(cert_args)
        .args(["receive", "-Q", "t", "-n", "5", "--timeout", "5"])
        .output()
        .unwrap();
    assert_success(&out, "rmq receive over SASL EXTERNAL");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "one\none\ntwo\nthree\nfour\n"
    );
    // EXTERNAL without a client certificate: refused (exit 4).
    let out = rmq()
        .args(["--url", &external, "--cacert", &ca, "send", "-Q", "t", "x"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Usage errors: --cert without --key, a CA file that is not PEM, a missing file.
    let not_pem = s(&pki.server_key.with_extension("csr"));
    for (args, want) in [
        (
            vec!["--cert", &s(&pki.client_cert)],
            "--cert and --key go together",
        ),
        (
            vec!["--cacert", "/nonexistent/ca.pem"],
            "cannot read CA certificate",
        ),
        (vec!["--cacert", &not_pem], "not a PEM certificate"),
    ] {
        let out = rmq()
            .args(["--url", &url])
            .args(&args)
            .args(["send", "-Q", "t", "x"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

/// 30,000 lines and one 8 MiB message each way: records that do not fit the socket at once
/// must reach the broker whole and in order (the write-retry path of src/tls.rs).
fn bulk_through_tls(url: &str, ca: &str) {
    let lines: String = (0..30_000)
        .map(|i| format!("line {i:05} {}\n", "x".repeat(90)))
        .collect();
    let out = send_and_receive(url, ca, &["--lines"], lines.as_bytes(), 30_000, "60");
    assert!(
        out == lines.as_bytes(),
        "30,000 lines did not come back in order"
    );

    let big: Vec<u8> = (0..8u32 << 20).map(|i| (i % 251) as u8).collect();
    let out = send_and_receive(url, ca, &[], &big, 1, "30");
    assert_eq!(out.len(), big.len() + 1, "8 MiB body plus the newline");
    assert!(
        out[..big.len()] == big[..],
        "the 8 MiB body changed on the way"
    );
}

/// `send -Q bulk` `input` over TLS, then receive `n` messages back (waiting up to `timeout`
/// seconds): their stdout.
fn send_and_receive(
    url: &str,
    ca: &str,
    send_args: &[&str],
    input: &[u8],
    n: u32,
    timeout: &str,
) -> Vec<u8> {
    let tls = ["--url", url, "--cacert", ca];
    rmq()
        .args(tls)
        .args(["send", "-Q", "bulk"])
        .args(send_args)
        .write_stdin(input.to_vec())
        .assert()
        .success();
    let out = rmq()
        .args(tls)
        .args([
            "receive",
            "-Q",
            "bulk",
            "-n",
            &n.to_string(),
            "--timeout",
            timeout,
        ])
        .output()
        .unwrap();
    assert_success(&out, "rmq receive of the bulk messages over TLS");
    out.stdout
}

/// The management API on https: verified with --cacert, refused without (exit 3), and
/// --insecure takes it with a warning.
fn management_over_https(api_tls: u16, ca: &str) {
    let api = format!("https://localhost:{api_tls}");
    let list = |extra: &[&str]| {
        rmq()
            .args(["--user", "guest", "--password", "guest", "--api-url", &api])
            .args(extra)
            .args(["list-queues"])
            .output()
            .unwrap()
    };
    // The https listener can come up a moment after the http one the harness waited for.
    let mut out = list(&["--cacert", ca]);
    wait_until(Duration::from_secs(15), "management https listener", || {
        out = list(&["--cacert", ca]);
        out.status.success()
    });
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("bulk\t")), "{text}");

    let out = list(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("certificate"), "{err}");

    let out = list(&["--insecure"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: --insecure"), "{err}");
}
