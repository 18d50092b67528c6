//! A fake management API that fails on purpose, for the API-fault tests: a loopback
//! `TcpListener` on a thread that reads each request and answers it the broken way its
//! [`Fault`] says (a 500 with the broker's JSON error, an answer later than any timeout, a
//! body cut off, a chunked body never finished, nothing at all). Dropping the server stops
//! it and joins its threads; no socket outlives the test.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The reason the 500 answer gives, as RabbitMQ's API words its errors.
pub const REASON_500: &str = "mnesia_not_running: the node is shutting down";

/// How a [`FaultServer`] answers every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `500 Internal Server Error` with `{"error": ..., "reason": REASON_500}`.
    Status500,
    /// A good answer, but only after this long (meant to be past the client's timeout).
    Slow(Duration),
    /// Headers announcing 4096 bytes of JSON, half of them, then the connection closes.
    HalfBody,
    /// Like `HalfBody`, but the connection then stays open and silent (until stopped).
    StalledBody,
    /// `Transfer-Encoding: chunked`: a chunk of an array, part of the next, then the
    /// connection closes (no final empty chunk).
    TruncatedChunked,
    /// Accepts the connection, reads the request, never writes a byte (until stopped).
    Silent,
}

/// A running fake API; `url()` is its address. Dropped: stopped, its threads joined.
pub struct FaultServer {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    accept: Option<JoinHandle<()>>,
    handlers: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl FaultServer {
    /// Listen on a free loopback port and answer every request with `fault`.
    pub fn start(fault: Fault) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let handlers = Arc::new(Mutex::new(Vec::new()));
        let (s, r, h) = (stop.clone(), requests.clone(), handlers.clone());
        let accept = thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (s, r) = (s.clone(), r.clone());
                        let t = thread::spawn(move || serve(conn, fault, &s, &r));
                        h.lock().unwrap().push(t);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        FaultServer {
            port,
            stop,
            requests,
            accept: Some(accept),
            handlers,
        }
    }

    /// `http://user:password@127.0.0.1:PORT` (credentials in the URL, to check redaction).
    pub fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}", self.port)
    }

    /// How many requests arrived (read to the end of their headers) so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            t.join().ok();
        }
        for t in self.handlers.lock().unwrap().drain(..) {
            t.join().ok();
        }
    }
}

/// Answer the requests of one connection until the fault ends it (or the server stops).
fn serve(mut conn: TcpStream, fault: Fault, stop: &AtomicBool, requests: &AtomicUsize) {
    conn.set_nonblocking(false).ok();
    conn.set_read_timeout(Some(Duration::from_millis(50))).ok();
    while let Some(()) = read_request(&mut conn, stop) {
        requests.fetch_add(1, Ordering::SeqCst);
        match fault {
            Fault::Status500 => {
                let body =
                    format!(r#"{{"error":"Internal Server Error","reason":"{REASON_500}"}}"#);
                let head = format!(
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\n\r\n",
                    body.len()
                );
                if conn.write_all(format!("{head}{body}").as_bytes()).is_err() {
                    return;
                }
            }
            Fault::Slow(delay) => {
                if !pause(delay, stop) {
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            content-length: 2\r\n\r\n[]";
                if conn.write_all(head.as_bytes()).is_err() {
                    return;
                }
            }
            Fault::HalfBody | Fault::StalledBody => {
                let body = format!("[{}", r#"{"name":"q","messages":1},"#.repeat(80));
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            content-length: 4096\r\n\r\n";
                conn.write_all(head.as_bytes()).ok();
                conn.write_all(&body.as_bytes()[..2048]).ok();
                if fault == Fault::StalledBody {
                    pause(Duration::from_secs(3600), stop);
                }
                break;
            }
            Fault::TruncatedChunked => {
                // One whole chunk, then one announced as 1024 bytes that stops at 27.
                let chunk = r#"[{"name":"q","messages":1},"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     transfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n400\r\n{chunk}",
                    chunk.len()
                );
                conn.write_all(head.as_bytes()).ok();
                break;
            }
            Fault::Silent => {
                pause(Duration::from_secs(3600), stop);
                return;
            }
        }
    }
    conn.flush().ok();
    conn.shutdown(Shutdown::Both).ok();
}

/// Read one request (headers, and a body of its content-length); `None` when the client
/// closed the connection or the server stops.
fn read_request(conn: &mut TcpStream, stop: &AtomicBool) -> Option<()> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = find(&got, b"\r\n\r\n") {
            break i + 4;
        }
        read_some(conn, &mut buf, &mut got, stop)?;
    };
    let head = String::from_utf8_lossy(&got[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while got.len() < header_end + length {
        read_some(conn, &mut buf, &mut got, stop)?;
    }
    Some(())
}

fn read_some(
    conn: &mut TcpStream,
    buf: &mut [u8],
    got: &mut Vec<u8>,
    stop: &AtomicBool,
) -> Option<()> {
    loop {
        if stop.load(Ordering::SeqCst) {
            return None;
        }
        match conn.read(buf) {
            Ok(0) => return None,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                return Some(());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Sleep `d` in small steps; false when the server stopped first.
fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
    true
}
