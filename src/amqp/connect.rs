//! Opening one connection: TCP with TCP_NODELAY and a connect deadline, TLS, the AMQP
//! handshake bounded by what is left of the deadline, and connect errors with hints.

use super::errors::{Ctx, map_err};
use super::limits::short_str;
use super::session::Session;
use super::tls_stream::TlsStream;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use amiquip::{Auth, Connection, ConnectionOptions, ConnectionTuning};
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// How to connect.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Brokers to try, in order.
    pub endpoints: Vec<Endpoint>,
    /// TCP connect plus handshake deadline.
    pub timeout: Duration,
    /// TLS settings from the command line.
    pub tls: crate::tls::TlsFiles,
    /// Shown in the management UI ("rmq send").
    pub name: String,
    /// The messages published on this connection are known to be large (64 KiB and more).
    pub large_messages: bool,
}

pub(super) fn open_one(ep: &Endpoint, opts: &ConnectOptions) -> Result<Session> {
    short_str("vhost", &ep.vhost)?;
    let deadline = Instant::now() + ep.connect_timeout.unwrap_or(opts.timeout);
    let target = ep.redacted();
    let stream = tcp_connect(ep, deadline).map_err(|e| unreachable(&target, &e.to_string()))?;
    stream.set_nodelay(true).ok();
    let auth = if ep.auth_external {
        Auth::External
    } else {
        Auth::Plain {
            username: ep.user.clone(),
            password: ep.password.clone(),
        }
    };
    let options = ConnectionOptions::<Auth>::default()
        .auth(auth)
        .virtual_host(ep.vhost.clone())
        .heartbeat(ep.heartbeat)
        .channel_max(ep.channel_max)
        .frame_max(ep.frame_max)
        .information(Some(opts.name.clone()));
    // mem_channel_bound: frames a channel may queue for the I/O thread before publish blocks
    // (amiquip's default 16 makes a fast publisher and the I/O thread wake each other every
    // few messages; 64 cut rmq's CPU per message by a quarter in scripts/bench W1). For large
    // messages the bound is what limits memory: the I/O thread moves every queued frame (up
    // to frame_max, 128 KiB) into its write buffer while the publisher refills the queue, so
    // 64 frames of 1 MiB messages grew it past 20 MB with an 8 MiB confirm window; 8 frames
    // kept it near 11 MB (see send's WINDOW_BYTES_LARGE). A write buffer of 256 KiB keeps
    // the same rate as 1 MiB with 1 MB less peak RSS (W1, W6); amiquip's default is 16 MiB.
    let bound = if opts.large_messages { 8 } else { 64 };
    let tuning = ConnectionTuning::default()
        .buffered_writes_high_water(256 << 10)
        .mem_channel_bound(bound);
    let mut stream = stream;
    // TLS is negotiated on the blocking socket, within the connect deadline.
    let tls = if ep.tls {
        let config = crate::tls::client_config(&tls_files(ep, &opts.tls))?;
        let name = crate::tls::server_name(&tls_domain(ep))?;
        let conn = crate::tls::handshake(config, name, &mut stream, deadline)
            .map_err(|reason| tls_failed(&target, &reason))?;
        Some(conn)
    } else {
        None
    };
    let stream = mio::net::TcpStream::from_stream(stream)
        .map_err(|e| unreachable(&target, &e.to_string()))?;
    // amiquip's handshake fails after this long with nothing from the broker: a silent port
    // ends at the deadline. (It is a wait per read, not in all, so a server trickling bytes
    // could take longer; a thread of ours holding a hard deadline cost more time per
    // one-message send than a round trip.)
    let left = deadline.saturating_duration_since(Instant::now());
    let options = options.connection_timeout(Some(left));
    let opened = match tls {
        Some(conn) => {
            Connection::insecure_open_stream(TlsStream::new(stream, conn), options, tuning)
        }
        None => Connection::insecure_open_stream(stream, options, tuning),
    };
    let mut conn = match opened {
        Ok(c) => c,
        Err(amiquip::Error::ConnectionTimeout) => {
            return Err(unreachable(
                &target,
                "no AMQP handshake within the connect timeout (is it a RabbitMQ AMQP port?)",
            ));
        }
        Err(e) => return Err(map_connect_err(e, ep)),
    };
    let blocked = conn.listen_for_connection_blocked().ok();
    crate::log::info(&format!("connected to {target}"));
    Ok(Session::new(conn, ep.clone(), blocked))
}

fn tcp_connect(ep: &Endpoint, deadline: Instant) -> io::Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (ep.host.as_str(), ep.port).to_socket_addrs()?.collect();
    // Prefer IPv4 first: brokers often listen on 127.0.0.1 only while "localhost" is ::1 too.
    let mut addrs = addrs;
    addrs.sort_by_key(|a| !a.is_ipv4());
    let mut last = io::Error::new(io::ErrorKind::NotFound, "host name resolved to no address");
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn tls_domain(ep: &Endpoint) -> String {
    ep.server_name.clone().unwrap_or_else(|| ep.host.clone())
}

/// The TLS files and verification for `ep`: command-line options first, then the URL's
/// query (cacertfile=, certfile=, keyfile=, verify=verify_none).
fn tls_files(ep: &Endpoint, tls: &crate::tls::TlsFiles) -> crate::tls::TlsFiles {
    crate::tls::TlsFiles {
        cacert: tls.cacert.clone().or_else(|| ep.cacertfile.clone()),
        cert: tls.cert.clone().or_else(|| ep.certfile.clone()),
        key: tls.key.clone().or_else(|| ep.keyfile.clone()),
        insecure: tls.insecure || ep.verify_none,
    }
}

fn tls_failed(target: &str, reason: &str) -> Error {
    Error::Unreachable {
        target: target.to_string(),
        reason: format!("TLS handshake failed: {reason}"),
        hint: "check --cacert (or --insecure to skip verification) and that the port speaks TLS"
            .into(),
    }
}

fn unreachable(target: &str, reason: &str) -> Error {
    Error::Unreachable {
        target: target.to_string(),
        reason: reason.to_string(),
        hint: "check that RabbitMQ is running and the host/port are right (--url, RMQ_URL, \
               --connect-timeout)"
            .to_string(),
    }
}

fn map_connect_err(e: amiquip::Error, ep: &Endpoint) -> Error {
    let target = ep.redacted();
    match e {
        amiquip::Error::InvalidCredentials => Error::AccessRefused {
            what: format!("{target} as user '{}'", ep.user),
            reason: "the broker refused the user name or password".into(),
            hint: "check --user and the password (--password-file or RMQ_PASSWORD)".into(),
        },
        amiquip::Error::ServerClosedConnection { code, message } if code == 530 || code == 403 => {
            if message.contains("not found") {
                Error::NotFound {
                    what: format!("vhost '{}'", ep.vhost),
                    reason: message,
                    hint: "create it with rabbitmqctl add_vhost, or pick another with --vhost"
                        .into(),
                }
            } else {
                Error::AccessRefused {
                    what: format!("vhost '{}' for user '{}'", ep.vhost, ep.user),
                    reason: message,
                    hint: format!(
                        "grant access: rabbitmqctl set_permissions -p '{}' '{}' '.*' '.*' '.*'",
                        ep.vhost, ep.user
                    ),
                }
            }
        }
        amiquip::Error::UnsupportedAuthMechanism {
            available,
            requested,
        } => Error::AccessRefused {
            what: target,
            reason: format!("auth mechanism {requested} not offered (broker offers {available})"),
            hint: "enable rabbitmq_auth_mechanism_ssl for EXTERNAL, or use a password".into(),
        },
        other => {
            let mapped = map_err(other, "connect", &Ctx::None);
            match mapped {
                Error::ConnectionLost { reason, .. } => unreachable(&target, &reason),
                m => m,
            }
        }
    }
}
