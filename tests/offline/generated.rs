//! The shipped completions/ and man/ must match what the binary generates now.

use crate::support::rmq;
use std::path::Path;

fn generate(args: &[&str]) -> Vec<u8> {
    let out = rmq().args(args).output().unwrap();
    assert!(out.status.success(), "rmq {args:?} failed");
    out.stdout
}

fn check(file: &str, args: &[&str]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let want = generate(args);
    let have = std::fs::read(&path).unwrap_or_default();
    assert!(
        have == want,
        "{file} is stale (differs from `rmq {}`): run scripts/regen.sh and commit the result",
        args.join(" ")
    );
}

#[test]
fn completions_are_current() {
    check("completions/rmq.bash", &["completions", "bash"]);
    check("completions/_rmq", &["completions", "zsh"]);
    check("completions/rmq.fish", &["completions", "fish"]);
    check("completions/rmq.elv", &["completions", "elvish"]);
    check("completions/_rmq.ps1", &["completions", "powershell"]);
}

#[test]
fn man_page_is_current_and_has_exit_status_and_environment() {
    check("man/rmq.1", &["man"]);
    let page = String::from_utf8(generate(&["man"])).unwrap();
    for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH \"RMQ SEND\""] {
        assert!(page.contains(section), "man page lacks {section}");
    }
}

#[test]
fn readme_exit_code_table_matches_the_code() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for (code, meaning) in rmq::error::EXIT_TABLE {
        let row = format!("| {code} | {meaning} |");
        assert!(
            readme.contains(&row),
            "README lacks the exit-code row `{row}`"
        );
    }
}
