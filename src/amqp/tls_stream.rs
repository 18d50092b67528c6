//! The TLS transport handed to amiquip: a rustls session over a non-blocking mio 0.6 socket,
//! written for amiquip's edge-triggered I/O loop. Certificates and the handshake itself are
//! src/tls.rs (shared with the management API); this file only moves bytes.

use rustls::ClientConnection;
use std::io::{self, Read, Write};

/// An established TLS session over a non-blocking mio socket, for amiquip's I/O loop.
///
/// amiquip polls edge-triggered and, on WouldBlock, calls `write` again later with the same
/// bytes at the front of its buffer (the contract OpenSSL's SSL_write has). So a write whose
/// records do not all fit in the socket keeps them here, answers WouldBlock, and on the retry
/// first sends what is kept and then reports the bytes it had taken. Nothing is ever left
/// waiting here while the caller believes it was written.
pub struct TlsStream {
    sock: mio::net::TcpStream,
    conn: ClientConnection,
    /// Plaintext bytes taken from the caller whose records are not all on the wire yet.
    taken: usize,
}

impl TlsStream {
    /// Wrap a socket whose handshake is complete (see [`handshake`]).
    pub fn new(sock: mio::net::TcpStream, conn: ClientConnection) -> TlsStream {
        TlsStream {
            sock,
            conn,
            taken: 0,
        }
    }

    /// Send the pending records; WouldBlock when the socket is full.
    fn send_pending(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.sock)?;
        }
        Ok(())
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed TCP without close_notify: the same as a plain socket's EOF.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            if self.conn.read_tls(&mut self.sock)? == 0 {
                return Ok(0);
            }
            let state = self.conn.process_new_packets();
            // Alerts and post-handshake messages go out now; a full socket keeps them for
            // the next write, which amiquip always makes before the broker can expect them.
            match self.send_pending() {
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                _ => {}
            }
            state.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.taken == 0 {
            self.send_pending()?;
            // rustls takes at most its buffer limit (64 KiB) at a time.
            self.taken = self.conn.writer().write(buf)?;
        }
        debug_assert!(
            buf.len() >= self.taken,
            "retried with fewer bytes than were taken"
        );
        self.send_pending()?;
        Ok(std::mem::take(&mut self.taken))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_pending()?;
        self.sock.flush()
    }
}

impl mio::Evented for TlsStream {
    fn register(
        &self,
        poll: &mio::Poll,
        token: mio::Token,
        interest: mio::Ready,
        opts: mio::PollOpt,
    ) -> io::Result<()> {
        self.sock.register(poll, token, interest, opts)
    }

    fn reregister(
        &self,
        poll: &mio::Poll,
        token: mio::Token,
        interest: mio::Ready,
        opts: mio::PollOpt,
    ) -> io::Result<()> {
        self.sock.reregister(poll, token, interest, opts)
    }

    fn deregister(&self, poll: &mio::Poll) -> io::Result<()> {
        self.sock.deregister(poll)
    }
}

impl amiquip::IoStream for TlsStream {}
