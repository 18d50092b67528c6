//! `rmq top`: the live screen through a real terminal (tmux running an interactive shell, so
//! that the prompt coming back and `stty -a` before and after show the terminal restored),
//! and the NDJSON lines on a pipe. Skips the terminal tests with a note when tmux is not
//! installed (`SKIPPED:` line; a failure with RMQ_TEST_STRICT=1).

use crate::bg::Bg;
use crate::support::{have_tmux, rmq_bin, rmq_url, setup, test_home, unique_name, wait_until};
use serde_json::Value;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The shell's prompt (PS1 adds a space, which capture-pane leaves out at a line's end).
const PROMPT: &str = "top-test$";

/// A private tmux server running an interactive bash in a 140x30 window; killed on drop.
struct Shell {
    socket: String,
}

impl Shell {
    /// `None` (after a skip note) without tmux.
    fn start() -> Option<Shell> {
        if !have_tmux() {
            return None;
        }
        let socket = unique_name("rmq-top");
        let line = format!(
            "env -i PATH=/usr/bin:/bin TERM=xterm HOME={} NO_COLOR=1 PS1='{PROMPT} ' \
             bash --norc --noprofile -i",
            test_home().display()
        );
        let ok = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "140", "-y", "30", &line])
            .env_remove("TMUX")
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux new-session failed");
        let shell = Shell { socket };
        shell.wait_for("the shell's prompt", |s| s.contains(PROMPT));
        Some(shell)
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait (30 s at most) until the screen satisfies `ok`; the screen then.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let mut screen = String::new();
        wait_until(Duration::from_secs(30), what, || {
            screen = self.screen();
            ok(&screen)
        });
        screen
    }

    /// Type `keys` (tmux key names, e.g. `q`, `C-c`, `Enter`).
    fn keys(&self, keys: &[&str]) {
        let ok = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux send-keys");
    }

    /// Type a command line and Enter.
    fn type_line(&self, line: &str) {
        self.keys(&["-l", line]);
        self.keys(&["Enter"]);
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// The messages column of `queue`'s row on the screen.
fn depth_on_screen(screen: &str, queue: &str) -> Option<u64> {
    screen.lines().find_map(|l| {
        let mut cells = l.split_whitespace();
        (cells.next() == Some(queue))
            .then(|| cells.next()?.parse().ok())
            .flatten()
    })
}

/// A local port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn send(url: &str, queue: &str, n: u32) {
    rmq_url(url)
        .args(["send", "-Q", queue, "--repeat", &n.to_string(), "m"])
        .assert()
        .success();
}

/// A scratch directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name(name));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn top_on_a_terminal_shows_the_depth_change_and_q_restores_the_terminal() {
    let (b, _vh, url) = setup("top-tty");
    rmq_url(&url)
        .args(["queue-declare", "depth"])
        .assert()
        .success();
    let Some(sh) = Shell::start() else {
        return;
    };
    let dir = scratch("top-tty");
    let (before, after) = (dir.join("before"), dir.join("after"));
    sh.type_line(&format!(
        "stty -a > {}; '{}' --url '{url}' --api-url {} top --interval 0.5; \
         echo \"[exit=$?]\"; stty -a > {}",
        before.display(),
        rmq_bin().display(),
        b.api_url(),
        after.display()
    ));
    sh.wait_for("the queue on top's screen, empty", |s| {
        s.contains("rmq top") && depth_on_screen(s, "depth") == Some(0)
    });
    send(&url, "depth", 3);
    sh.wait_for("a depth of 3", |s| depth_on_screen(s, "depth") == Some(3));
    send(&url, "depth", 4);
    let screen = sh.wait_for("a depth of 7", |s| depth_on_screen(s, "depth") == Some(7));
    let row = screen.lines().find(|l| l.starts_with("depth ")).unwrap();
    assert!(row.contains('█'), "the sparkline reaches its top: {row}");
    assert!(screen.contains("sort: messages"), "{screen}");
    assert!(
        screen.contains("q/Esc/Ctrl-C quit"),
        "the keys are shown: {screen}"
    );
    sh.keys(&["s"]);
    sh.wait_for("the sort changed by the s key", |s| {
        s.contains("sort: rate")
    });
    sh.keys(&["q"]);
    let screen = sh.wait_for("the shell's prompt after top", |s| {
        s.split_once("[exit=0]")
            .is_some_and(|(_, rest)| rest.contains(PROMPT))
    });
    assert!(
        !screen.contains("sort: rate"),
        "the alternate screen is left: {screen}"
    );
    wait_until(Duration::from_secs(10), "stty -a after top", || {
        std::fs::read_to_string(&after).is_ok_and(|s| !s.is_empty())
    });
    let (was, is) = (
        std::fs::read_to_string(&before).unwrap(),
        std::fs::read_to_string(&after).unwrap(),
    );
    assert!(was.contains("icanon") && was.contains("echo"), "{was}");
    assert_eq!(was, is, "the terminal's settings after top");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn top_on_a_terminal_says_the_api_cannot_be_reached_and_keeps_trying() {
    let (_b, _vh, url) = setup("top-noapi");
    let Some(sh) = Shell::start() else {
        return;
    };
    let dead = format!("http://127.0.0.1:{}", closed_port());
    sh.type_line(&format!(
        "'{}' --url '{url}' --api-url {dead} top --interval 0.2; echo \"[exit=$?]\"",
        rmq_bin().display()
    ));
    let screen = sh.wait_for("the status line", |s| s.contains("cannot reach"));
    assert!(screen.contains("retrying every 0.2 s"), "{screen}");
    assert!(screen.contains(&dead), "{screen}");
    // Still running (and redrawing) after many failed polls; Ctrl-C leaves.
    std::thread::sleep(Duration::from_secs(1));
    assert!(!sh.screen().contains("[exit="), "{}", sh.screen());
    sh.keys(&["C-c"]);
    sh.wait_for("the shell's prompt after top", |s| {
        s.split_once("[exit=0]")
            .is_some_and(|(_, rest)| rest.contains(PROMPT))
    });
}

#[test]
fn top_ends_when_its_terminal_goes_away() {
    let (b, _vh, url) = setup("top-hangup");
    let Some(sh) = Shell::start() else {
        return;
    };
    let dir = scratch("top-hangup");
    let pid_file = dir.join("pid");
    // exec: the pid written is top's own.
    sh.type_line(&format!(
        "sh -c 'echo $$ > {}; exec \"$0\" \"$@\"' '{}' --url '{url}' --api-url {} top",
        pid_file.display(),
        rmq_bin().display(),
        b.api_url()
    ));
    sh.wait_for("top's screen", |s| s.contains("updated "));
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    drop(sh); // kills the tmux server: the terminal hangs up
    let alive = || !gone(pid);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let still = alive();
    if still {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert!(
        !still,
        "rmq top (pid {pid}) still runs after its terminal went away"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Has the process exited (reaped, or a zombie its parent has not reaped yet)?
fn gone(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// The objects `top` printed for `queue`.
fn objects_for(top: &Bg, queue: &str) -> Vec<Value> {
    top.lines()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|o| o["name"] == queue)
        .collect()
}

#[test]
fn top_on_a_pipe_prints_a_json_line_per_queue_per_poll_with_rising_counts() {
    let (b, vh, url) = setup("top-json");
    for q in ["depth", "other"] {
        rmq_url(&url).args(["queue-declare", q]).assert().success();
    }
    let api = b.api_url();
    let mut top = Bg::start(&[
        "--url",
        &url,
        "--api-url",
        &api,
        "top",
        "--interval",
        "0.3",
        "--filter",
        "^dep",
    ]);
    let messages = |top: &Bg| -> Vec<u64> {
        objects_for(top, "depth")
            .iter()
            .filter_map(|o| o["messages"].as_u64())
            .collect()
    };
    let last_is = |n: u64| move |top: &Bg| messages(top).last() == Some(&n);
    wait_until(Duration::from_secs(30), "a line with depth 0", || {
        last_is(0)(&top)
    });
    send(&url, "depth", 5);
    wait_until(Duration::from_secs(30), "a line with depth 5", || {
        last_is(5)(&top)
    });
    send(&url, "depth", 5);
    wait_until(Duration::from_secs(30), "a line with depth 10", || {
        last_is(10)(&top)
    });
    top.signal(libc::SIGINT);
    let status = top.wait(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{}", top.stderr());
    let counts = messages(&top);
    assert!(
        counts.windows(2).all(|w| w[0] <= w[1]),
        "counts only rise: {counts:?}"
    );
    let all = objects_for(&top, "depth");
    let last = all.last().unwrap();
    for key in [
        "timestamp",
        "ready",
        "unacked",
        "consumers",
        "publish_rate",
        "deliver_rate",
    ] {
        assert!(last.get(key).is_some(), "{key} in {last}");
    }
    assert_eq!(last["vhost"], vh.as_str());
    assert_eq!(last["ready"], 10);
    assert!(last["timestamp"].as_str().unwrap().ends_with('Z'), "{last}");
    // One line per poll: each timestamp once for the one queue the filter keeps.
    let stamps: Vec<&str> = all.iter().filter_map(|o| o["timestamp"].as_str()).collect();
    let mut unique = stamps.clone();
    unique.dedup();
    assert_eq!(stamps, unique);
    assert!(objects_for(&top, "other").is_empty(), "--filter '^dep'");
}

#[test]
fn top_on_a_pipe_with_an_unreachable_api_exits_3_and_a_missing_vhost_5() {
    let (b, _vh, url) = setup("top-pipe-errors");
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let a = rmq_url(&url)
        .args(["--api-url", &dead, "top"])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(3)
        .stdout("");
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("cannot reach") && err.contains(&dead), "{err}");
    rmq_url(&url)
        .args(["--api-url", &b.api_url(), "--vhost", "no-such-vhost-top"])
        .args(["top", "--json"])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(5);
}
