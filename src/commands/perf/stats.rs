//! Counters shared by the producer and consumer threads, a latency histogram, and the report
//! (per-second lines and the final summary). It never touches the broker: the clients
//! (clients.rs) feed it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bytes at the start of every body: the send time, nanoseconds since the epoch (LE u64).
pub const STAMP_LEN: usize = 8;

/// Nanoseconds since the epoch, now.
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Write the send time into the first bytes of `body` (which is at least [`STAMP_LEN`] long).
pub fn stamp(body: &mut [u8]) {
    body[..STAMP_LEN].copy_from_slice(&now_nanos().to_le_bytes());
}

/// Microseconds since the stamp in `body`, if it carries one from the past.
pub fn latency_micros(body: &[u8]) -> Option<u64> {
    let bytes: [u8; STAMP_LEN] = body.get(..STAMP_LEN)?.try_into().ok()?;
    let sent = u64::from_le_bytes(bytes);
    let now = now_nanos();
    // A body not written by rmq perf (or a clock step) would give nonsense: skip it.
    if sent == 0 || sent > now || now - sent > 3_600_000_000_000 {
        return None;
    }
    Some((now - sent) / 1000)
}

/// A log-linear histogram of microseconds: exact below 128 µs, then 64 buckets per power of
/// two (under 1.6% error), up to about 2^40 µs.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    min: u64,
    max: u64,
}

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
const LINEAR: u64 = 2 * SUB;
const MAX_EXP: u32 = 40;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; (LINEAR + u64::from(MAX_EXP - SUB_BITS) * SUB) as usize],
            total: 0,
            min: u64::MAX,
            max: 0,
        }
    }
}

fn bucket(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = (63 - v.leading_zeros()).min(MAX_EXP);
    let shift = e - SUB_BITS;
    let mantissa = (v >> shift).min(2 * SUB - 1);
    (LINEAR + u64::from(e - SUB_BITS - 1) * SUB + (mantissa - SUB)) as usize
}

/// The middle of a bucket's range.
fn bucket_value(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let k = i - LINEAR;
    let e = k / SUB + u64::from(SUB_BITS) + 1;
    let shift = e - u64::from(SUB_BITS);
    let mantissa = k % SUB + SUB;
    (mantissa << shift) + (1 << shift) / 2
}

impl Histogram {
    /// Count one value (µs).
    pub fn record(&mut self, v: u64) {
        if let Some(c) = self.counts.get_mut(bucket(v)) {
            *c += 1;
        }
        self.total += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Add another histogram's counts.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// How many values.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value at quantile `q` (0..=1), in µs; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(bucket_value(i).clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    /// Smallest value.
    pub fn min(&self) -> Option<u64> {
        (self.total > 0).then_some(self.min)
    }

    /// Largest value.
    pub fn max(&self) -> Option<u64> {
        (self.total > 0).then_some(self.max)
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.total = 0;
        self.min = u64::MAX;
        self.max = 0;
    }
}

/// What all threads count, read by the reporter.
#[derive(Default)]
pub struct Shared {
    /// Published.
    pub sent: AtomicU64,
    /// Confirmed (acked) by the broker.
    pub confirmed: AtomicU64,
    /// Nacked by the broker.
    pub nacked: AtomicU64,
    /// Delivered to our consumers.
    pub received: AtomicU64,
    /// Producers that have finished (all their confirms in, or given up).
    pub producers_done: AtomicU64,
    /// Latencies since the last per-second line.
    pub interval: Mutex<Histogram>,
    /// Latencies of the whole run.
    pub total: Mutex<Histogram>,
}

impl Shared {
    /// Fold a consumer's batch of latencies into both histograms.
    pub fn add_latencies(&self, batch: &mut Histogram) {
        if batch.count() == 0 {
            return;
        }
        if let Ok(mut h) = self.interval.lock() {
            h.merge(batch);
        }
        if let Ok(mut h) = self.total.lock() {
            h.merge(batch);
        }
        batch.clear();
    }

    /// (sent, confirmed, nacked, received) now.
    pub fn counts(&self) -> Counts {
        Counts {
            sent: self.sent.load(Ordering::Relaxed),
            confirmed: self.confirmed.load(Ordering::Relaxed),
            nacked: self.nacked.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
        }
    }
}

/// A snapshot of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Published.
    pub sent: u64,
    /// Confirmed.
    pub confirmed: u64,
    /// Nacked.
    pub nacked: u64,
    /// Received.
    pub received: u64,
}

/// Milliseconds, for display.
fn ms(us: Option<u64>) -> String {
    match us {
        Some(v) => format!("{:.2}", v as f64 / 1000.0),
        None => "-".into(),
    }
}

/// One per-second line: rates over `dt` and the latencies of the interval.
pub fn interval_line(
    at: Duration,
    now: Counts,
    before: Counts,
    dt: f64,
    h: &Histogram,
    confirms: bool,
) -> String {
    let rate = |a: u64, b: u64| (a.saturating_sub(b)) as f64 / dt.max(1e-9);
    let confirmed = if confirms {
        format!("{:>8.0}", rate(now.confirmed, before.confirmed))
    } else {
        format!("{:>8}", "-")
    };
    format!(
        "time {:>6.1} s  sent {:>8.0} msg/s  confirmed {confirmed} msg/s  received {:>8.0} msg/s  \
         latency p50 {} p95 {} p99 {} ms",
        at.as_secs_f64(),
        rate(now.sent, before.sent),
        rate(now.received, before.received),
        ms(h.quantile(0.50)),
        ms(h.quantile(0.95)),
        ms(h.quantile(0.99)),
    )
}

/// What the run was, for the summary.
pub struct RunInfo<'a> {
    /// Queue.
    pub queue: &'a str,
    /// Producer threads.
    pub producers: u32,
    /// Consumer threads.
    pub consumers: u32,
    /// Body size.
    pub size: usize,
    /// Confirm window (None: no confirms).
    pub confirm: Option<u32>,
    /// Persistent messages.
    pub persistent: bool,
    /// Wall time of the run.
    pub seconds: f64,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
}

/// The final summary as JSON.
pub fn summary_json(run: &RunInfo, c: Counts, h: &Histogram) -> serde_json::Value {
    let secs = run.seconds.max(1e-9);
    let lat = |v: Option<u64>| v.map(|us| us as f64 / 1000.0);
    serde_json::json!({
        "queue": run.queue,
        "producers": run.producers,
        "consumers": run.consumers,
        "size": run.size,
        "confirm": run.confirm,
        "persistent": run.persistent,
        "seconds": run.seconds,
        "interrupted": run.interrupted,
        "sent": c.sent,
        "confirmed": c.confirmed,
        "nacked": c.nacked,
        "received": c.received,
        "rate": {
            "sent": c.sent as f64 / secs,
            "confirmed": c.confirmed as f64 / secs,
            "received": c.received as f64 / secs,
        },
        "latency_ms": {
            "count": h.count(),
            "min": lat(h.min()),
            "p50": lat(h.quantile(0.50)),
            "p75": lat(h.quantile(0.75)),
            "p95": lat(h.quantile(0.95)),
            "p99": lat(h.quantile(0.99)),
            "p999": lat(h.quantile(0.999)),
            "max": lat(h.max()),
        },
    })
}

/// The final summary as a small table.
pub fn summary_table(run: &RunInfo, c: Counts, h: &Histogram) -> String {
    let secs = run.seconds.max(1e-9);
    let mut s = format!(
        "queue '{}', {} producer(s), {} consumer(s), {} bytes, {}{}, {:.2} s{}\n",
        run.queue,
        run.producers,
        run.consumers,
        run.size,
        match run.confirm {
            Some(w) => format!("confirms (window {w})"),
            None => "no confirms".into(),
        },
        if run.persistent { ", persistent" } else { "" },
        run.seconds,
        if run.interrupted {
            " (interrupted)"
        } else {
            ""
        },
    );
    s += &format!("{:<11}{:>12}{:>14}\n", "", "messages", "msg/s");
    let mut row = |name: &str, n: u64| {
        s += &format!("{name:<11}{n:>12}{:>14.0}\n", n as f64 / secs);
    };
    row("sent", c.sent);
    if run.confirm.is_some() {
        row("confirmed", c.confirmed);
        if c.nacked > 0 {
            row("nacked", c.nacked);
        }
    }
    row("received", c.received);
    s += &format!(
        "latency ms  min {}  p50 {}  p75 {}  p95 {}  p99 {}  p99.9 {}  max {}",
        ms(h.min()),
        ms(h.quantile(0.50)),
        ms(h.quantile(0.75)),
        ms(h.quantile(0.95)),
        ms(h.quantile(0.99)),
        ms(h.quantile(0.999)),
        ms(h.max()),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_close() {
        let mut last = 0;
        for v in (0..200_000u64).step_by(7).chain([1 << 30, 1 << 39]) {
            let b = bucket(v);
            assert!(b >= last, "bucket({v}) went down");
            last = b;
            let mid = bucket_value(b);
            let err = (mid as f64 - v as f64).abs() / (v.max(1) as f64);
            assert!(err <= 0.016, "v {v} -> {mid} ({err})");
        }
    }

    #[test]
    fn quantiles_of_a_uniform_spread() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v);
        }
        let p50 = h.quantile(0.5).unwrap_or(0) as f64;
        let p99 = h.quantile(0.99).unwrap_or(0) as f64;
        assert!((p50 - 5000.0).abs() / 5000.0 < 0.02, "{p50}");
        assert!((p99 - 9900.0).abs() / 9900.0 < 0.02, "{p99}");
        assert_eq!(h.min(), Some(1));
        assert_eq!(h.max(), Some(10_000));
        assert_eq!(Histogram::default().quantile(0.5), None);
    }

    #[test]
    fn stamps_read_back_as_small_latencies() {
        let mut body = vec![0u8; 16];
        stamp(&mut body);
        let l = latency_micros(&body).unwrap_or(u64::MAX);
        assert!(l < 1_000_000, "{l}");
        assert_eq!(latency_micros(b"short"), None);
        assert_eq!(latency_micros(&[0u8; 8]), None);
    }
}
