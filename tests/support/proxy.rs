//! A TCP proxy for fault tests: forwards loopback connections to a broker port until told to
//! blackhole them — then it keeps every socket open and moves no byte either way, the way a
//! dead NAT entry or a vanished peer looks from the client. It never closes on its own.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A running proxy; dropping it stops it and closes its sockets.
pub struct Proxy {
    port: u16,
    blackholed: Arc<AtomicBool>,
    stopped: Arc<AtomicBool>,
    sockets: Arc<Mutex<Vec<TcpStream>>>,
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
        };
        let (hole, stop, sockets) = (
            proxy.blackholed.clone(),
            proxy.stopped.clone(),
            proxy.sockets.clone(),
        );
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).ok();
                        accept(client, target, [&hole, &stop], &sockets);
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
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        for s in self.sockets.lock().unwrap().drain(..) {
            s.shutdown(Shutdown::Both).ok();
        }
    }
}

/// Connect to the target and start one pump each way; `flags` are (blackholed, stopped).
fn accept(
    client: TcpStream,
    target: u16,
    flags: [&Arc<AtomicBool>; 2],
    sockets: &Mutex<Vec<TcpStream>>,
) {
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
        let (hole, stop) = (flags[0].clone(), flags[1].clone());
        thread::spawn(move || pump(from, to, &hole, &stop));
    }
}

/// Copy bytes until either side closes; once blackholed, read and drop nothing more: stop
/// reading at all, so the sender's data piles up unacknowledged as on a dead path.
fn pump(mut from: TcpStream, mut to: TcpStream, hole: &AtomicBool, stop: &AtomicBool) {
    let mut buf = [0u8; 16 * 1024];
    from.set_read_timeout(Some(Duration::from_millis(50))).ok();
    while !stop.load(Ordering::SeqCst) {
        if hole.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(50));
            continue;
        }
        match from.read(&mut buf) {
            Ok(0) => {
                to.shutdown(Shutdown::Write).ok();
                return;
            }
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    return;
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
