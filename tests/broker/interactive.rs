//! The interactive producer, through a real terminal (tmux).

use crate::support::{rmq_bin, setup, unique_name, wait_until};
use std::process::Command;
use std::time::Duration;

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(cmd: &str) -> Option<Tmux> {
        let socket = unique_name("rmq-tmux");
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "150",
                "-y",
                "40",
            ])
            .arg(cmd)
            .status()
            .ok()?
            .success();
        ok.then_some(Tmux { socket })
    }
    fn keys(&self, keys: &[&str]) {
        Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "t"])
            .args(keys)
            .status()
            .unwrap();
    }
    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-t", "t", "-p"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

#[test]
fn interactive_send_prompts_sends_each_line_and_switches_routing_key() {
    let (b, vh, url) = setup("interactive");
    let done = std::env::temp_dir().join(unique_name("interactive-exit"));
    let cmd = format!(
        "env -u RMQ_URL RMQ_NON_INTERACTIVE=1 NO_COLOR=1 '{}' --url '{url}' send -Q typed; echo $? > '{}'; sleep 30",
        rmq_bin().display(),
        done.display()
    );
    let Some(t) = Tmux::start(&cmd) else {
        crate::support::skip("tmux is not available (apt-get install tmux)");
        return;
    };
    let wait = |what: &str, text: &str| {
        wait_until(Duration::from_secs(20), what, || t.screen().contains(text));
    };
    wait("the prompt", "Message to queue 'typed':");
    t.keys(&["first message", "Enter"]);
    wait("the confirmation", "[x] Sent 'first message' (confirmed)");
    t.keys(&[":exchange amq.direct", "Enter"]);
    t.keys(&[":key nowhere", "Enter"]);
    wait(
        "the new target",
        "exchange 'amq.direct' (routing key 'nowhere')",
    );
    t.keys(&["lost", "Enter"]);
    wait("the return", "(returned: no queue is bound for it)");
    t.keys(&["C-d"]);
    wait_until(Duration::from_secs(20), "rmq to exit", || done.exists());
    assert_eq!(std::fs::read_to_string(&done).unwrap().trim(), "0");
    assert_eq!(b.queue_messages(&vh, "typed"), 1);
    let _ = std::fs::remove_file(done);
}
