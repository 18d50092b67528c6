//! Free ports for test nodes (a block of 4 below the ephemeral range, locked across test
//! processes) and a small random source. Nothing here knows about RabbitMQ itself.

use std::collections::hash_map::RandomState;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Ports handed to test nodes are `PORT_BASE + 4k .. +3`, all below the ephemeral range
/// (32768-60999 here) so that no outgoing connection can be holding them.
const PORT_BASE: u16 = 20000;
const PORT_BLOCKS: u16 = 2999; // last block: 31996..=31999
/// Never used for test nodes: the defaults of a system broker (5672, 15672, 25672, 4369
/// are below PORT_BASE anyway) and the fixed ports of `scripts/test-broker.sh`.
const RESERVED_PORTS: &[u16] = &[21672, 21673, 21674, 25672];

pub(super) struct Ports {
    pub(super) amqp: u16,
    pub(super) api: u16,
    pub(super) dist: u16,
    /// Free for `{api_tls}` in the extra configuration (a management https listener).
    pub(super) api_tls: u16,
    /// Held while the node exists: other test processes skip this block of ports.
    pub(super) _lock: File,
}

/// Picks a block of three consecutive free ports (AMQP, API, distribution) below 32768,
/// locked against other test processes for as long as the returned `Ports` lives.
pub(super) fn reserve_ports() -> Result<Ports, String> {
    let lock_dir = std::env::temp_dir().join("rmq-test-ports");
    fs::create_dir_all(&lock_dir).map_err(|e| format!("creating {}: {e}", lock_dir.display()))?;
    for _ in 0..500 {
        let base = PORT_BASE + (random() % u64::from(PORT_BLOCKS)) as u16 * 4;
        let ports = [base, base + 1, base + 2, base + 3];
        if ports.iter().any(|p| RESERVED_PORTS.contains(p)) {
            continue;
        }
        let lock_path = lock_dir.join(format!("{base}.lock"));
        let Ok(lock) = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
        else {
            continue;
        };
        if lock.try_lock().is_err() {
            continue;
        }
        let free = ports.iter().all(|&p| {
            TcpListener::bind((Ipv4Addr::UNSPECIFIED, p)).is_ok()
                && TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok()
        });
        if free {
            return Ok(Ports {
                amqp: base,
                api: base + 1,
                dist: base + 2,
                api_tls: base + 3,
                _lock: lock,
            });
        }
    }
    Err("no free block of 4 ports found in 20000-31999".into())
}

pub(super) fn random() -> u64 {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    h.write_usize(SEQ.fetch_add(1, Ordering::Relaxed));
    h.finish()
}
