//! A TCP proxy for fault tests: forwards loopback connections to a broker port until told to
//! blackhole them — then it keeps every socket open and moves no byte either way, the way a
//! dead NAT entry or a vanished peer looks from the client. It never closes on its own.
//! It can also be told to slow every direction down to a rate (a slow link), so that a fast
//! command is still mid-run when a fault hits.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A running proxy; dropping it stops it and closes its sockets.
pub struct Proxy {
    port: u16,
    blackholed: Arc<AtomicBool>,
    stopped: Arc<AtomicBool>,
    sockets: Arc<Mutex<Vec<TcpStream>>>,
    /// Bytes per second each way and connection; 0: as fast as it goes.
    rate: Arc<AtomicU64>,
}

/// What the pumps of one proxy share.
#[derive(Clone)]
struct Flags {
    blackholed: Arc<AtomicBool>,
    stopped: Arc<AtomicBool>,
    rate: Arc<AtomicU64>,
}

impl Proxy {
    /// Listen on a free loopback port and forward to `127.0.0.1:target`.
    pub fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let proxy = Proxy {
            port: listener.local_addr().unwrap().port(),
            blackholed: Arc::new(AtomicBool::new(false)),
            stopped: Arc::new(AtomicBool::new(false)),
            sockets: Arc::new(Mutex::new(Vec::new())),
            rate: Arc::new(AtomicU64::new(0)),
        };
        let flags = Flags {
            blackholed: proxy.blackholed.clone(),
            stopped: proxy.stopped.clone(),
            rate: proxy.rate.clone(),
        };
        let sockets = proxy.sockets.clone();
        thread::spawn(move || {
            while !flags.stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).ok();
                        accept(client, target, &flags, &sockets);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        proxy
    }

    /// `url` (an AMQP URL to the target port) rewritten to go through this proxy.
    pub fn url_for(&self, url: &str, target: u16) -> String {
        let via = url.replacen(&format!(":{target}/"), &format!(":{}/", self.port), 1);
        assert_ne!(via, url, "no port {target} in {url}");
        via
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// From now on, nothing passes in either direction (connections stay open).
    pub fn blackhole(&self) {
        self.blackholed.store(true, Ordering::SeqCst);
    }

    /// From now on, at most `bytes_per_sec` pass each way on each connection (0: no limit).
    pub fn throttle(&self, bytes_per_sec: u64) {
        self.rate.store(bytes_per_sec, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        for s in self.sockets.lock().unwrap().drain(..) {
            s.shutdown(Shutdown::Both).ok();
        }
    }
}

/// Connect to the target and start one pump each way.
fn accept(client: TcpStream, target: u16, flags: &Flags, sockets: &Mutex<Vec<TcpStream>>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
        return;
    };
    let mut all = sockets.lock().unwrap();
    for s in [&client, &server] {
        if let Ok(c) = s.try_clone() {
            all.push(c);
        }
    }
    for (from, to) in [(&client, &server), (&server, &client)] {
        let (Ok(from), Ok(to)) = (from.try_clone(), to.try_clone()) else {
            continue;
        };
        let flags = flags.clone();
        thread::spawn(move || pump(from, to, &flags));
    }
}

/// Copy bytes until either side closes; once blackholed, read and drop nothing more: stop
/// reading at all, so the sender's data piles up unacknowledged as on a dead path. Under a
/// rate, small reads each followed by the pause their size costs.
fn pump(mut from: TcpStream, mut to: TcpStream, flags: &Flags) {
    let mut buf = [0u8; 16 * 1024];
    from.set_read_timeout(Some(Duration::from_millis(50))).ok();
    while !flags.stopped.load(Ordering::SeqCst) {
        if flags.blackholed.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(50));
            continue;
        }
        let rate = flags.rate.load(Ordering::SeqCst);
        let want = if rate == 0 {
            buf.len()
        } else {
            (rate / 50).clamp(1, buf.len() as u64) as usize
        };
        match from.read(&mut buf[..want]) {
            Ok(0) => {
                to.shutdown(Shutdown::Write).ok();
                return;
            }
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
                if rate > 0 {
                    thread::sleep(Duration::from_secs_f64(n as f64 / rate as f64));
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}
