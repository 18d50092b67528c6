//! Secrets of the day-2 admin commands that secrets.rs's output table cannot see: a new
//! user's password never in any process's argv (what `ps` shows) while `user-declare` runs,
//! and `definitions-export`, which holds password hashes: files written 0600 (also over an
//! existing file), and a note on a terminal only.

use crate::secrets::{leaks, secret_user};
use crate::support::{Broker, pct_encode, rmq, rmq_bin, rmq_std, skip, test_home, unique_name};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The admin's and the new user's passwords here: this test's own (secrets.rs puts its
/// password in argv on purpose, for `--password`, and may run meanwhile).
const ADMIN_PW: &str = "Argv-Adm1n-frobnitz";
const NEW_PW: &str = "Argv-N3w-frobnitz";

fn has_a_password(text: &str) -> bool {
    text.contains("frobnitz") || leaks(text)
}

/// Every process's command line that holds one of this test's passwords, as `ps` shows it.
fn argv_with_a_password() -> Vec<String> {
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in dir.flatten() {
        if let Ok(raw) = std::fs::read(entry.path().join("cmdline")) {
            let line = String::from_utf8_lossy(&raw).replace('\0', " ");
            if line.contains("frobnitz") {
                found.push(format!(
                    "pid {}: {line}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
    }
    found
}

/// Wait for a child while sampling every process's argv; the samples taken and the leaks.
fn sample_until_exit(child: &mut std::process::Child) -> (usize, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut samples, mut seen) = (0, Vec::new());
    loop {
        seen.extend(argv_with_a_password());
        samples += 1;
        if child.try_wait().unwrap().is_some() {
            return (samples, seen);
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("user-declare did not finish");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether `user` can log in to the API with `password`.
fn logs_in(b: &Broker, user: &str, password: &str) -> bool {
    ureq::get(&format!("{}/api/whoami", b.api_url()))
        .set(
            "Authorization",
            &format!(
                "Basic {}",
                crate::support::query::base64(format!("{user}:{password}").as_bytes())
            ),
        )
        .call()
        .is_ok()
}

#[test]
fn user_declare_keeps_the_new_password_out_of_argv_and_output() {
    let b = Broker::shared();
    let vhost = b.vhost(&unique_name("secrets-argv"));
    let admin = secret_user(b, &vhost, ADMIN_PW);
    let no_pw = format!(
        "amqp://{admin}@127.0.0.1:{}/{}",
        b.amqp_port(),
        pct_encode(&vhost)
    );
    let api = b.api_url();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("new-pw");
    std::fs::write(&file, format!("{NEW_PW}\n")).unwrap();
    let file = file.to_string_lossy().into_owned();
    for how in ["--password-stdin", "--password-file"] {
        let user = unique_name("secret-argv-user");
        let mut args = vec![
            "--url",
            &no_pw,
            "--api-url",
            &api,
            "-vv",
            "user-declare",
            &user,
            // The management tag lets the new user log in to the API (the check below).
            "--tags",
            "management",
        ];
        args.extend(match how {
            "--password-stdin" => vec![how],
            _ => vec![how, &file],
        });
        let mut child = rmq_std()
            .env("RMQ_PASSWORD", ADMIN_PW)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if how == "--password-stdin" {
            // rmq waits for the password here: sample it (and everyone else) meanwhile.
            std::thread::sleep(Duration::from_millis(300));
            let early = argv_with_a_password();
            assert!(early.is_empty(), "{how}: {early:?}");
            writeln!(stdin, "{NEW_PW}").unwrap();
        }
        drop(stdin);
        let (samples, seen) = sample_until_exit(&mut child);
        let out = child.wait_with_output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{how}: {all}");
        assert!(seen.is_empty(), "{how}: a password in argv: {seen:?}");
        assert!(
            !has_a_password(&all),
            "{how}: a password in the output: {all}"
        );
        assert!(
            logs_in(b, &user, NEW_PW),
            "{how}: the new user cannot log in with the password given"
        );
        eprintln!("secrets: {how}: argv of every process sampled {samples} times, clean");
        b.api_delete(&format!("users/{}", pct_encode(&user)));
    }
}

#[test]
fn definitions_export_writes_0600_even_over_an_existing_file() {
    let b = Broker::shared();
    let url = b.amqp_url("/");
    let api = b.api_url();
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.json");
    let existing = dir.path().join("existing.json");
    std::fs::write(
        &existing,
        "old, longer than what replaces it? no: just old\n",
    )
    .unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    for path in [&fresh, &existing] {
        rmq()
            .args(["--url", &url, "--api-url", &api, "definitions-export", "-o"])
            .arg(path)
            .assert()
            .success();
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: mode {mode:o}", path.display());
        let text = std::fs::read_to_string(path).unwrap();
        let defs: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            defs["users"]
                .as_array()
                .is_some_and(|u| u.iter().any(|u| u["password_hash"].is_string())),
            "{}: no password hashes in the export",
            path.display()
        );
    }
}

#[test]
fn definitions_export_to_a_terminal_says_it_holds_password_hashes() {
    let have_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_script {
        skip("script(1) is not installed (util-linux): no terminal to export to");
        return;
    }
    let b = Broker::shared();
    let url = b.amqp_url("/");
    let api = b.api_url();
    let run_on_a_tty = |extra: &str| {
        let line = format!(
            "env -i PATH=/usr/bin:/bin HOME={} NO_COLOR=1 {} --url '{url}' --api-url '{api}' \
             {extra} definitions-export",
            test_home().display(),
            rmq_bin().display()
        );
        let out = crate::support::run_with_timeout(
            std::process::Command::new("script").args(["-qefc", &line, "/dev/null"]),
            Duration::from_secs(30),
        );
        assert!(out.status.success(), "{line}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let whole = run_on_a_tty("");
    assert!(whole.contains("password_hash"), "{whole}");
    assert!(whole.contains("password hashes"), "no note: {whole}");
    // One vhost's definitions hold no users: no note.
    let one = run_on_a_tty("--vhost /");
    assert!(!one.contains("password hashes"), "{one}");
    // Not a terminal: the JSON alone, no note on stderr.
    let piped = rmq()
        .args(["--url", &url, "--api-url", &api, "definitions-export"])
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert!(String::from_utf8_lossy(&piped.stdout).contains("password_hash"));
    assert!(!String::from_utf8_lossy(&piped.stderr).contains("password hashes"));
}
