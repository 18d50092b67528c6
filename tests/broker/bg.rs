//! A background `rmq` process whose output is collected, killed and reaped on drop.

use crate::support::rmq_std;
use std::io::Read;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running `rmq`.
pub struct Bg {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

fn pump(mut r: impl Read + Send + 'static, buf: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    })
}

impl Bg {
    /// Start `rmq ARGS` with stdin closed.
    pub fn start(args: &[&str]) -> Bg {
        Bg::start_with_stdin(args, Stdio::null())
    }

    /// Start `rmq ARGS` with the given stdin (e.g. a file).
    pub fn start_with_stdin(args: &[&str], stdin: impl Into<Stdio>) -> Bg {
        Bg::start_with_env(args, stdin, &[])
    }

    /// Start `rmq ARGS` with the given stdin and these environment variables added.
    pub fn start_with_env(args: &[&str], stdin: impl Into<Stdio>, env: &[(&str, &str)]) -> Bg {
        let mut child = rmq_std()
            .args(args)
            .envs(env.iter().copied())
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rmq");
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            pump(child.stdout.take().unwrap(), out.clone()),
            pump(child.stderr.take().unwrap(), err.clone()),
        ];
        Bg {
            child,
            out,
            err,
            readers,
        }
    }

    /// Stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    /// Stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    /// Lines of stdout so far.
    pub fn lines(&self) -> Vec<String> {
        self.stdout().lines().map(str::to_string).collect()
    }

    /// The pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Send a signal.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe {
            libc::kill(self.pid(), sig);
        }
    }

    /// Wait for exit (panics after `timeout`, killing it).
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
                return s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "rmq did not exit within {timeout:?}; stderr: {}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Take every message of `queue` (bodies that are numbers, one per line): what a test
/// counts after a fault.
pub fn drain(url: &str, queue: &str) -> Vec<u64> {
    let mut r = Bg::start(&["--url", url, "receive", "-Q", queue, "--timeout", "2"]);
    assert!(r.wait(Duration::from_secs(120)).success(), "{}", r.stderr());
    r.lines().iter().map(|l| l.parse().unwrap()).collect()
}
