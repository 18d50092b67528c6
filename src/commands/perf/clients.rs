//! The producer and consumer loops, each on its own thread and its own connection.
//! No counting or reporting of its own: the counters and the report are in stats.rs, the
//! confirm bookkeeping in crate::confirm.

use super::stats::{Histogram, STAMP_LEN, Shared, latency_micros, stamp};
use crate::amqp::{ConfirmEvent, Event, Message, Properties};
use crate::confirm::ConfirmWindow;
use crate::ctx::Ctx;
use crate::error::Result;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What a producer does.
pub struct ProducerPlan<'a> {
    /// Queue (published to through the default exchange).
    pub queue: &'a str,
    /// Body size in bytes (at least [`STAMP_LEN`]).
    pub size: usize,
    /// Messages per second, if limited.
    pub rate: Option<f64>,
    /// Outstanding-confirm window (None: no confirms).
    pub confirm: Option<u32>,
    /// Delivery mode 2.
    pub persistent: bool,
    /// Stop after this many messages.
    pub count: Option<u64>,
}

/// How long a producer waits for its last confirms once told to stop.
const CONFIRM_GRACE: Duration = Duration::from_secs(10);
const TICK: Duration = Duration::from_millis(100);

/// When a producer may start and must stop.
pub struct Gate<'a> {
    /// Called once connected and ready to publish.
    pub ready: &'a (dyn Fn() + Sync),
    /// Set when every producer is ready: the run's clock starts.
    pub go: &'a AtomicBool,
    /// Set to stop publishing.
    pub stop: &'a AtomicBool,
}

/// Publish until `stop` (or `plan.count`), then wait for the outstanding confirms.
pub fn producer(ctx: &Ctx, plan: &ProducerPlan, shared: &Shared, gate: &Gate) -> Result<()> {
    let stop = gate.stop;
    let mut session = ctx.connect("rmq perf producer")?;
    let mut publisher = session.publisher(plan.confirm.is_some())?;
    (gate.ready)();
    // Connecting takes a while (more on a busy machine): the clock starts when all are in.
    while !gate.go.load(Ordering::SeqCst) && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut msg = Message {
        body: body_of(plan.size),
        props: Properties {
            delivery_mode: plan.persistent.then_some(2),
            ..Properties::default()
        },
    };
    let window = plan.confirm.map_or(usize::MAX, |w| w as usize);
    let mut outstanding: ConfirmWindow<()> = ConfirmWindow::new();
    let started = Instant::now();
    let mut sent = 0u64;
    let apply = |events: Vec<ConfirmEvent>, outstanding: &mut ConfirmWindow<()>| {
        for e in events {
            let settled = outstanding.apply(e);
            let counter = if settled.acked {
                &shared.confirmed
            } else {
                &shared.nacked
            };
            counter.fetch_add(settled.len(), Ordering::Relaxed);
        }
    };
    while !stop.load(Ordering::Relaxed) && plan.count.is_none_or(|n| sent < n) {
        if let Some(rate) = plan.rate {
            // Keep to a schedule (no bursts to catch up more than one message).
            let due = started + Duration::from_secs_f64(sent as f64 / rate);
            let now = Instant::now();
            if due > now {
                let wait = (due - now).min(TICK);
                if plan.confirm.is_some() {
                    // Take in confirms while waiting (returns early when one arrives).
                    apply(publisher.confirms(wait, "")?, &mut outstanding);
                } else {
                    std::thread::sleep(wait);
                }
                continue;
            }
        }
        stamp(&mut msg.body);
        let tag = publisher.publish("", plan.queue, &msg, false)?;
        sent += 1;
        shared.sent.fetch_add(1, Ordering::Relaxed);
        if plan.confirm.is_some() {
            outstanding.insert(tag, ());
            if sent.is_multiple_of(64) {
                apply(publisher.confirms(Duration::ZERO, "")?, &mut outstanding);
            }
            while outstanding.len() >= window && !stop.load(Ordering::Relaxed) {
                apply(publisher.confirms(TICK, "")?, &mut outstanding);
            }
        }
    }
    let deadline = Instant::now() + CONFIRM_GRACE;
    if plan.confirm.is_some() {
        while !outstanding.is_empty() && Instant::now() < deadline {
            apply(publisher.confirms(TICK, "")?, &mut outstanding);
        }
    } else {
        publisher.sync("")?;
    }
    shared.producers_done.fetch_add(1, Ordering::Relaxed);
    publisher.close();
    session.close();
    Ok(())
}

fn body_of(size: usize) -> Vec<u8> {
    let mut body = vec![b'x'; size.max(STAMP_LEN)];
    body[..STAMP_LEN].fill(0);
    body
}

/// What a consumer does.
pub struct ConsumerPlan<'a> {
    /// Queue.
    pub queue: &'a str,
    /// basic.qos prefetch.
    pub prefetch: u16,
    /// Auto-ack.
    pub no_ack: bool,
}

/// Ack with `multiple` at most this many deliveries apart.
const ACK_EVERY: u64 = 128;

/// Consume until `done()` says so; record a latency per delivery.
pub fn consumer(
    ctx: &Ctx,
    plan: &ConsumerPlan,
    shared: &Shared,
    ready: &dyn Fn(),
    done: &dyn Fn(Duration) -> bool,
) -> Result<()> {
    let mut session = ctx.connect("rmq perf consumer")?;
    let ch = session.consumer_channel((!plan.no_ack).then_some(plan.prefetch))?;
    let consumer = ch.consume(plan.queue, plan.no_ack, false)?;
    ready();
    let mut batch = Histogram::default();
    let mut unacked = None;
    let mut pending = 0u64;
    let mut last_flush = Instant::now();
    let mut last_delivery = Instant::now();
    loop {
        match consumer.next(TICK) {
            Event::Delivery(d) => {
                last_delivery = Instant::now();
                if let Some(l) = latency_micros(&d.message.body) {
                    batch.record(l);
                }
                shared.received.fetch_add(1, Ordering::Relaxed);
                if !plan.no_ack {
                    unacked = Some(d.token);
                    pending += 1;
                    if pending >= ACK_EVERY || !consumer.has_pending() {
                        if let Some(t) = unacked.take() {
                            ch.ack(t, true)?;
                        }
                        pending = 0;
                    }
                }
            }
            Event::Idle => {}
            Event::Cancelled => break,
            Event::Closed(e) => return Err(e),
        }
        if last_flush.elapsed() >= Duration::from_millis(50) {
            shared.add_latencies(&mut batch);
            last_flush = Instant::now();
        }
        if done(last_delivery.elapsed()) {
            break;
        }
    }
    shared.add_latencies(&mut batch);
    let _ = consumer.cancel();
    if let Some(t) = unacked.take() {
        ch.ack(t, true)?;
    }
    ch.sync()?;
    drop(consumer);
    ch.close();
    session.close();
    Ok(())
}
