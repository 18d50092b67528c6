//! `rmq --help` and `rmq <sub> --help` for every subcommand, compared with the files in
//! `tests/offline/snapshots/help/` (`rmq.txt`, `<sub>.txt`). With `SNAPSHOTS=overwrite` the
//! test rewrites the files instead of failing (scripts/regen.sh does); review the diff.

use crate::support::rmq;
use clap::CommandFactory;
use std::path::{Path, PathBuf};

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/offline/snapshots/help")
}

fn overwrite() -> bool {
    std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite")
}

/// The help text `rmq ARGS` prints (it must exit 0 and print nothing on stderr).
fn help(args: &[&str]) -> String {
    let out = rmq()
        .args(args)
        // A port nothing listens on: help must never connect.
        .env("RMQ_URL", "amqp://127.0.0.1:1/")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "rmq {args:?}: {stderr}");
    assert!(stderr.is_empty(), "rmq {args:?} wrote to stderr: {stderr}");
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("rmq {args:?}: not UTF-8: {e}"))
}

/// The lines where `want` and `have` differ: the common head and tail are left out, the
/// middle is shown as `-` (snapshot) and `+` (now) lines, numbered as in the snapshot.
fn diff(want: &str, have: &str) -> String {
    let (w, h): (Vec<&str>, Vec<&str>) = (want.lines().collect(), have.lines().collect());
    let head = w.iter().zip(&h).take_while(|(a, b)| a == b).count();
    let tail = w[head..]
        .iter()
        .rev()
        .zip(h[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = format!("@@ line {} @@\n", head + 1);
    for line in &w[head..w.len() - tail] {
        out.push_str(&format!("-{line}\n"));
    }
    for line in &h[head..h.len() - tail] {
        out.push_str(&format!("+{line}\n"));
    }
    if want.ends_with('\n') != have.ends_with('\n') {
        out.push_str("(the final newline differs)\n");
    }
    out
}

/// Compares `text` with the snapshot `name.txt` (or writes it with `SNAPSHOTS=overwrite`);
/// `Some(report)` when they differ.
fn check(name: &str, args: &[&str], text: &str) -> Option<String> {
    let path = snapshot_dir().join(format!("{name}.txt"));
    let old = std::fs::read_to_string(&path).ok();
    if old.as_deref() == Some(text) {
        return None;
    }
    if overwrite() {
        std::fs::create_dir_all(snapshot_dir()).unwrap();
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        eprintln!("SNAPSHOTS=overwrite: wrote {}", path.display());
        return None;
    }
    let rel = format!("tests/offline/snapshots/help/{name}.txt");
    Some(match old {
        None => format!("{rel} is missing (`rmq {}`)\n", args.join(" ")),
        Some(old) => format!(
            "{rel} differs from `rmq {}`:\n{}",
            args.join(" "),
            diff(&old, text)
        ),
    })
}

#[test]
fn help_of_rmq_and_every_subcommand_matches_its_snapshot() {
    let mut expected = vec!["rmq".to_string()];
    let mut failures = Vec::new();
    failures.extend(check("rmq", &["--help"], &help(&["--help"])));
    for sub in rmq::cli::Cli::command().get_subcommands() {
        let name = sub.get_name();
        let args = [name, "--help"];
        failures.extend(check(name, &args, &help(&args)));
        expected.push(name.to_string());
    }
    // A snapshot of a subcommand that no longer exists is stale too.
    for entry in std::fs::read_dir(snapshot_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = entry.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "txt") && !expected.iter().any(|n| n == stem) {
            if overwrite() {
                std::fs::remove_file(&path).unwrap();
                eprintln!("SNAPSHOTS=overwrite: removed {}", path.display());
            } else {
                failures.push(format!(
                    "tests/offline/snapshots/help/{stem}.txt belongs to no subcommand of rmq\n"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "help snapshots out of date ({} of {}); if the change is intended, run \
         `SNAPSHOTS=overwrite cargo test --test offline help` (or scripts/regen.sh) and \
         review the diff:\n\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
}
