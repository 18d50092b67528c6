//! What a person at a terminal sees: the confirmation prompt of destructive commands and the
//! listing table. Runs `rmq` inside tmux (a private server per test); skips with a note when
//! tmux is not installed (`SKIPPED:` line; a failure with RMQ_TEST_STRICT=1).

use crate::support::{have_tmux, rmq_bin, rmq_url, setup, test_home, unique_name, wait_until};
use std::process::Command;
use std::time::Duration;

/// A private tmux server running one shell command in a 160x50 window; killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Start `command` (a shell command line) in a clean environment; `None` without tmux.
    fn start(command: &str) -> Option<Tmux> {
        if !have_tmux() {
            return None;
        }
        let socket = unique_name("rmq-tty");
        let home = test_home();
        let line = format!(
            "env -i PATH=/usr/bin:/bin TERM=xterm HOME={} NO_COLOR=1 {command}; \
             echo \"[exit=$?]\"; sleep 60",
            home.display()
        );
        let ok = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "160", "-y", "50", &line])
            .env_remove("TMUX")
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux new-session failed");
        Some(Tmux { socket })
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-J", "-S", "-50"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, text: &str) -> String {
        let mut screen = String::new();
        wait_until(
            Duration::from_secs(30),
            &format!("'{text}' on screen"),
            || {
                screen = self.screen();
                screen.contains(text)
            },
        );
        screen
    }

    fn keys(&self, keys: &str) {
        let ok = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", keys])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux send-keys");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn rmq_line(url: &str, args: &str) -> String {
    format!("{} --url '{url}' {args}", rmq_bin().display())
}

#[test]
fn queue_purge_on_a_terminal_asks_and_yes_purges() {
    let (b, vh, url) = setup("tty-purge");
    rmq_url(&url)
        .args(["send", "-Q", "work", "a"])
        .assert()
        .success();
    let Some(t) = Tmux::start(&rmq_line(&url, "queue-purge work")) else {
        return;
    };
    t.wait_for("Purge 1 ready message(s) from queue 'work'");
    assert_eq!(
        b.queue_messages(&vh, "work"),
        1,
        "nothing may happen before the answer"
    );
    t.keys("y");
    let screen = t.wait_for("[exit=");
    assert!(screen.contains("[exit=0]"), "{screen}");
    assert!(screen.contains("purged 1 message(s)"), "{screen}");
    assert_eq!(b.queue_messages(&vh, "work"), 0);
}

#[test]
fn queue_delete_on_a_terminal_answered_no_changes_nothing_and_exits_1() {
    let (b, vh, url) = setup("tty-delete");
    rmq_url(&url)
        .args(["queue-declare", "keep"])
        .assert()
        .success();
    let Some(t) = Tmux::start(&rmq_line(&url, "queue-delete keep")) else {
        return;
    };
    t.wait_for("Delete queue 'keep'");
    t.keys("n");
    let screen = t.wait_for("[exit=");
    assert!(screen.contains("[exit=1]"), "{screen}");
    assert!(screen.contains("nothing was changed"), "{screen}");
    assert!(b.queue_info(&vh, "keep").is_some());
}

#[test]
fn exchange_delete_on_a_terminal_ctrl_c_changes_nothing_and_exits_130() {
    let (b, vh, url) = setup("tty-xdel");
    rmq_url(&url)
        .args(["exchange-declare", "logs", "-t", "fanout"])
        .assert()
        .success();
    let Some(t) = Tmux::start(&rmq_line(&url, "exchange-delete logs")) else {
        return;
    };
    t.wait_for("Delete exchange 'logs'");
    t.keys("C-c");
    let screen = t.wait_for("[exit=");
    assert!(screen.contains("[exit=130]"), "{screen}");
    let (status, _) = b.api_request(
        "GET",
        &format!("exchanges/{}/logs", crate::support::pct_encode(&vh)),
        None,
    );
    assert_eq!(status, 200);
}

#[test]
fn list_queues_on_a_terminal_prints_a_table() {
    let (b, _vh, url) = setup("tty-list");
    for q in ["alpha", "beta"] {
        rmq_url(&url)
            .args(["queue-declare", q, "--durable"])
            .assert()
            .success();
    }
    let line = rmq_line(&url, &format!("--api-url {} list-queues", b.api_url()));
    let Some(t) = Tmux::start(&line) else {
        return;
    };
    let screen = t.wait_for("[exit=");
    assert!(screen.contains("[exit=0]"), "{screen}");
    let header = screen
        .lines()
        .find(|l| l.contains("name") && l.contains("consumers"))
        .unwrap_or_else(|| panic!("no table header: {screen}"));
    for col in ["messages", "ready", "unacked", "durable", "type"] {
        assert!(header.contains(col), "{header}");
    }
    assert!(screen.contains('┌') && screen.contains('└'), "{screen}");
    let alpha = screen.lines().find(|l| l.contains("alpha")).unwrap();
    assert!(
        alpha.contains("classic") && alpha.contains("true"),
        "{alpha}"
    );
    assert!(!screen.contains('\t'), "no TSV on a terminal: {screen}");
}

#[test]
fn rmq_non_interactive_refuses_even_on_a_terminal() {
    let (b, vh, url) = setup("tty-nonint");
    rmq_url(&url)
        .args(["send", "-Q", "work", "a"])
        .assert()
        .success();
    let line = format!(
        "RMQ_NON_INTERACTIVE=1 {}",
        rmq_line(&url, "queue-purge work")
    );
    let Some(t) = Tmux::start(&line) else {
        return;
    };
    let screen = t.wait_for("[exit=");
    assert!(screen.contains("[exit=2]"), "{screen}");
    assert!(!screen.contains("Purge"), "{screen}");
    assert_eq!(b.queue_messages(&vh, "work"), 1);
}
