//! No password in any output: every error path (and the ordinary ones) run with a
//! recognisable password given every way rmq takes one, at `-vv`, stdout and stderr grepped:
//! messaging, listings and the day-2 admin commands (a new user's password from
//! `user-declare --password-file` included). secrets_admin.rs adds what a table cannot:
//! argv while `user-declare` runs, and `definitions-export`'s file mode and terminal note.

use crate::support::{Broker, pct_encode, rmq, unique_name};
use serde_json::json;
use std::time::Duration;

pub const SECRET: &str = "Pw-S3cr3t-xyzzy";
/// The password `user-declare` gives a new user.
pub const NEW_SECRET: &str = "New-Pa55w0rd-quux";

/// Every form the passwords could take in output.
pub fn leaks(text: &str) -> bool {
    [SECRET, NEW_SECRET, "S3cr3t", "Pa55w0rd"]
        .iter()
        .any(|s| text.contains(s) || text.contains(&pct_encode(s)))
}

/// A user with this password, administrator (definitions, users), allowed on `vhost`.
pub fn secret_user(b: &Broker, vhost: &str, password: &str) -> String {
    let user = unique_name("secret-user");
    b.api_put(
        &format!("users/{}", pct_encode(&user)),
        &json!({"password": password, "tags": "administrator"}),
    );
    b.api_put(
        &format!("permissions/{}/{}", pct_encode(vhost), pct_encode(&user)),
        &json!({"configure": ".*", "write": ".*", "read": ".*"}),
    );
    user
}

#[test]
fn no_password_in_any_output_on_any_path() {
    let b = Broker::shared();
    let vhost = b.vhost(&unique_name("secrets"));
    let user = secret_user(b, &vhost, SECRET);
    let port = b.amqp_port();
    let good = format!(
        "amqp://{user}:{}@127.0.0.1:{port}/{}",
        pct_encode(SECRET),
        pct_encode(&vhost)
    );
    let no_pw = format!("amqp://{user}@127.0.0.1:{port}/{}", pct_encode(&vhost));
    let wrong_user = format!(
        "amqp://nobody:{}@127.0.0.1:{port}/{}",
        pct_encode(SECRET),
        pct_encode(&vhost)
    );
    let dead_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, format!("{SECRET}\n")).unwrap();
    let pw_file = pw_file.to_string_lossy().into_owned();
    let api = b.api_url();
    let api_with_pw = api.replacen("http://", &format!("http://{user}:{SECRET}@"), 1);
    let dead = format!("amqp://{user}:{SECRET}@127.0.0.1:{dead_port}/");
    let tls_to_plain = format!("amqps://{user}:{SECRET}@127.0.0.1:{port}/");
    let bad_url = format!("amqp://{user}:{SECRET}@h/?frob=1");
    let bad_api = format!("ftp://{user}:{SECRET}@127.0.0.1:1/");
    let dead_api = format!("http://{user}:{SECRET}@127.0.0.1:{dead_port}");
    let missing_vhost = format!("amqp://{user}:{SECRET}@127.0.0.1:{port}/nope-vhost");
    let new_user = unique_name("secret-new-user");
    let new_pw_file = dir.path().join("new-pw");
    std::fs::write(&new_pw_file, format!("{NEW_SECRET}\n")).unwrap();
    let new_pw_file = new_pw_file.to_string_lossy().into_owned();
    let defs_file = dir.path().join("defs.json").to_string_lossy().into_owned();
    let api_wrong_pw = api.replacen("http://", &format!("http://{user}:{SECRET}-wrong@"), 1);
    let wrong_pw = Some("Pw-S3cr3t-xyzzy-wrong");
    // The connection's password comes from RMQ_PASSWORD, or the file, or the API URL.
    let admin = |env: &'static str, cmd: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = match env {
            "file" => vec![
                "--url",
                &no_pw,
                "--password-file",
                &pw_file,
                "--api-url",
                &api,
            ],
            "api-url" => vec!["--url", &no_pw, "--api-url", &api_with_pw],
            "wrong-api-url" => vec!["--url", &no_pw, "--api-url", &api_wrong_pw],
            "dead-api" => vec![
                "--url",
                &good,
                "--api-url",
                &dead_api,
                "--connect-timeout",
                "2",
            ],
            _ => vec!["--url", &no_pw, "--api-url", &api],
        }
        .into_iter()
        .map(String::from)
        .collect();
        v.extend(cmd.iter().map(|s| s.to_string()));
        v
    };
    let user_declare = ["user-declare", &new_user, "--password-file", &new_pw_file];
    // (what, env password, args, expected exit): the day-2 admin commands.
    let admin_cases: Vec<(&str, Option<&str>, Vec<String>, i32)> = vec![
        (
            "overview, --password-file",
            None,
            admin("file", &["overview"]),
            0,
        ),
        (
            "list-connections --json, RMQ_PASSWORD",
            Some(SECRET),
            admin("env", &["--json", "list-connections"]),
            0,
        ),
        (
            "list-users, API URL with password",
            None,
            admin("api-url", &["list-users"]),
            0,
        ),
        (
            "health-check alarms, RMQ_PASSWORD",
            Some(SECRET),
            admin("env", &["health-check", "alarms"]),
            0,
        ),
        (
            "definitions-export (hashes), RMQ_PASSWORD",
            Some(SECRET),
            admin("env", &["definitions-export"]),
            0,
        ),
        (
            "definitions-export -o, --password-file",
            None,
            admin("file", &["definitions-export", "-o", &defs_file]),
            0,
        ),
        (
            "user-declare --password-file, RMQ_PASSWORD",
            Some(SECRET),
            admin("env", &user_declare),
            0,
        ),
        (
            "queue-delete --pattern --dry-run, --password-file",
            None,
            admin(
                "file",
                &["queue-delete", "--pattern", "^nothing-", "--dry-run"],
            ),
            0,
        ),
        (
            "close-connection --for-user, RMQ_PASSWORD",
            Some(SECRET),
            admin(
                "env",
                &["close-connection", "--for-user", "nobody-here", "--yes"],
            ),
            0,
        ),
        (
            "overview, wrong RMQ_PASSWORD",
            wrong_pw,
            admin("env", &["overview"]),
            4,
        ),
        (
            "user-declare, wrong RMQ_PASSWORD",
            wrong_pw,
            admin("env", &user_declare),
            4,
        ),
        (
            "definitions-export, wrong password in the API URL",
            None,
            admin("wrong-api-url", &["definitions-export"]),
            4,
        ),
        (
            "overview, dead API with a password",
            None,
            admin("dead-api", &["overview"]),
            3,
        ),
        (
            "health-check, dead API with a password",
            None,
            admin("dead-api", &["health-check"]),
            3,
        ),
        (
            "user-declare, dead API with a password",
            None,
            admin("dead-api", &user_declare),
            3,
        ),
        (
            "definitions-export, dead API with a password",
            None,
            admin("dead-api", &["definitions-export", "-o", &defs_file]),
            3,
        ),
    ];
    // (what, env password, args, expected exit)
    let cases: Vec<(&str, Option<&str>, Vec<&str>, i32)> = vec![
        (
            "send, password in URL",
            None,
            vec!["--url", &good, "send", "-Q", "s", "hi"],
            0,
        ),
        (
            "receive, --password-file",
            None,
            vec![
                "--url",
                &no_pw,
                "--password-file",
                &pw_file,
                "receive",
                "-Q",
                "s",
                "-n",
                "1",
                "--timeout",
                "5",
            ],
            0,
        ),
        (
            "send --json, RMQ_PASSWORD",
            Some(SECRET),
            vec!["--url", &no_pw, "--json", "send", "-Q", "s", "x"],
            0,
        ),
        (
            "list-queues, API URL with password",
            None,
            vec!["--url", &good, "--api-url", &api_with_pw, "list-queues"],
            0,
        ),
        (
            "list-queues --json, --password",
            None,
            vec![
                "--url",
                &no_pw,
                "--password",
                SECRET,
                "--api-url",
                &api,
                "--json",
                "list-queues",
            ],
            0,
        ),
        (
            "wrong user",
            None,
            vec!["--url", &wrong_user, "send", "-Q", "s", "x"],
            4,
        ),
        (
            "wrong password from RMQ_PASSWORD",
            Some("Pw-S3cr3t-xyzzy-wrong"),
            vec!["--url", &no_pw, "send", "-Q", "s", "x"],
            4,
        ),
        (
            "wrong password from file for the API",
            None,
            vec![
                "--url",
                &wrong_user,
                "--password-file",
                &pw_file,
                "--api-url",
                &api,
                "list-queues",
            ],
            4,
        ),
        (
            "dead port",
            None,
            vec!["--url", &dead, "--connect-timeout", "2", "send", "x"],
            3,
        ),
        (
            "TLS to a plain port",
            None,
            vec![
                "--url",
                &tls_to_plain,
                "--connect-timeout",
                "3",
                "send",
                "x",
            ],
            3,
        ),
        ("bad URL", None, vec!["--url", &bad_url, "send", "x"], 2),
        (
            "bad API URL",
            None,
            vec!["--url", &good, "--api-url", &bad_api, "list-queues"],
            2,
        ),
        (
            "dead API",
            None,
            vec!["--url", &good, "--api-url", &dead_api, "list-queues"],
            3,
        ),
        (
            "missing vhost",
            None,
            vec!["--url", &missing_vhost, "send", "x"],
            5,
        ),
        (
            "missing vhost, API",
            None,
            vec!["--url", &missing_vhost, "--api-url", &api, "list-queues"],
            5,
        ),
        (
            "several URLs, all dead",
            None,
            vec![
                "--url",
                &dead,
                "--url",
                &dead,
                "--connect-timeout",
                "1",
                "peek",
                "-Q",
                "s",
            ],
            3,
        ),
        ("help with RMQ_PASSWORD", Some(SECRET), vec!["--help"], 0),
        (
            "send help with RMQ_PASSWORD",
            Some(SECRET),
            vec!["send", "--help"],
            0,
        ),
    ];
    let cases = cases
        .into_iter()
        .map(|(w, e, a, c)| (w, e, a.into_iter().map(String::from).collect(), c))
        .chain(admin_cases);
    let mut failures = Vec::new();
    for (what, env_pw, args, code) in cases {
        for verbosity in ["-vv", "-q"] {
            let mut cmd = rmq();
            cmd.timeout(Duration::from_secs(30));
            if let Some(p) = env_pw {
                cmd.env("RMQ_PASSWORD", p);
            }
            let out = cmd.arg(verbosity).args(&args).output().unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if out.status.code() != Some(code) {
                failures.push(format!(
                    "{what} {verbosity}: exit {:?}, wanted {code}: {all}",
                    out.status.code()
                ));
            }
            if leaks(&all) {
                failures.push(format!("{what} {verbosity}: the password shows:\n{all}"));
            }
            if all.contains("panicked") {
                failures.push(format!("{what} {verbosity}: panic:\n{all}"));
            }
        }
    }
    b.api_delete(&format!("users/{}", pct_encode(&new_user)));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
