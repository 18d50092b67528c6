//! `rmq perf`: a load generator in the spirit of RabbitMQ's PerfTest. Producers and consumers
//! run on threads of their own, each with its own connection; a line per second on stderr and
//! a summary at the end (or on Ctrl-C). This file holds the arguments and the run's plan and
//! threads; the client loops are in perf/clients.rs, counting and reporting in perf/stats.rs.

use crate::amqp::QueueSpec;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::output::Out;
use crate::{log, signals};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod clients;
mod stats;

use clients::{ConsumerPlan, ProducerPlan};
use stats::{Counts, Histogram, RunInfo, STAMP_LEN, Shared};

const EXAMPLES: &str = "\
Examples:
  rmq perf -Q perf --time 10                      # 1 producer, 1 consumer, as fast as it goes
  rmq perf -Q perf -x 2 -y 4 --size 1000 --time 30   # 2 producers, 4 consumers, 1 kB bodies
  rmq perf -Q perf --confirm 1000 --persistent --pmessages 100000   # durable, confirmed
  rmq perf -Q perf --rate 500 --time 60           # a steady 500 msg/s: watch the latency
  rmq perf -Q perf -y 0 --pmessages 1000000       # only fill the queue
  rmq perf -Q perf -x 0 -y 2 --time 10 --json     # only drain it, summary as JSON";

/// Generate load: producers and consumers on their own connections, with rates and latency
///
/// Like RabbitMQ's PerfTest: producer and consumer threads, each on its own connection, publish
/// to and consume from one queue (declared if missing; durable with --persistent). Every body
/// carries its send time, so consumers measure the end-to-end latency. Each second a line on
/// stderr gives the sent, confirmed and received rates and the latency percentiles of that
/// second; the summary at the end (or on Ctrl-C) goes to stdout, as a table or, with --json,
/// as one JSON object.
///
/// Without --time or --pmessages it runs until Ctrl-C. With --pmessages, consumers stop once
/// every message published has arrived. --rate is per producer, as in PerfTest.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Queue to publish to and consume from (declared when missing)
    #[arg(short = 'Q', long, value_name = "QUEUE", default_value = "rmq-perf")]
    pub queue: String,

    /// Producer threads (each with its own connection)
    #[arg(short = 'x', long, value_name = "N", default_value = "1")]
    pub producers: u32,

    /// Consumer threads (each with its own connection)
    #[arg(short = 'y', long, value_name = "N", default_value = "1")]
    pub consumers: u32,

    /// Body size in bytes (at least 8: the first 8 carry the send time)
    #[arg(short = 's', long, value_name = "BYTES", default_value = "100",
          value_parser = clap::value_parser!(u32).range(STAMP_LEN as i64..=(512 << 20)))]
    pub size: u32,

    /// Messages per second per producer (default: as fast as possible)
    #[arg(short = 'r', long, value_name = "MSG/S", value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Use publisher confirms with at most WINDOW unconfirmed messages per producer
    #[arg(short = 'c', long, value_name = "WINDOW",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub confirm: Option<u32>,

    /// Persistent messages (delivery mode 2); a missing queue is declared durable
    #[arg(short = 'p', long)]
    pub persistent: bool,

    /// Unacked messages the broker may send each consumer ahead (basic.qos)
    #[arg(long, value_name = "N", default_value = "256",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub prefetch: u16,

    /// Consumers use auto-ack (no acknowledgements)
    #[arg(long)]
    pub no_ack: bool,

    /// Run for SECS seconds, then stop publishing and let consumers catch up
    #[arg(short = 'z', long, value_name = "SECS", value_parser = crate::cli::parse_positive_secs,
          conflicts_with = "pmessages")]
    pub time: Option<f64>,

    /// Each producer sends N messages, then the run ends once all have arrived
    #[arg(short = 'C', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub pmessages: Option<u64>,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!(
            "expected a positive number of messages per second, got '{s}'"
        )),
    }
}

/// After the producers are done, consumers stop once they have everything, or after this long
/// without a delivery.
const IDLE_END: Duration = Duration::from_millis(1000);

/// What the threads share besides the counters.
struct Control {
    /// Producers: stop publishing.
    stop: AtomicBool,
    /// Consumers: the producers are done (or there are none and the run is over).
    finished: AtomicBool,
    /// Consumers: stop now.
    abort: AtomicBool,
    /// Consumers: stop once this many messages were received.
    target: AtomicU64,
    /// Consumers that have started consuming.
    ready: AtomicUsize,
    /// A thread has failed: stop everything.
    failed: AtomicBool,
    /// Producers that are connected and ready to publish.
    producers_ready: AtomicUsize,
    /// Producers: start publishing (the run's clock starts).
    go: AtomicBool,
}

/// Run `rmq perf`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    if args.producers == 0 && args.consumers == 0 {
        return Err(Error::Usage(
            "nothing to do: --producers and --consumers are both 0".into(),
        ));
    }
    if args.producers == 0 && args.time.is_none() && args.pmessages.is_some() {
        return Err(Error::Usage(
            "--pmessages needs at least one producer".into(),
        ));
    }
    prepare_queue(&args, ctx)?;
    signals::install(true);
    let shared = Shared::default();
    let control = Control {
        stop: AtomicBool::new(false),
        finished: AtomicBool::new(false),
        abort: AtomicBool::new(false),
        target: AtomicU64::new(
            args.pmessages
                .map_or(u64::MAX, |n| n.saturating_mul(u64::from(args.producers))),
        ),
        ready: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
        producers_ready: AtomicUsize::new(0),
        go: AtomicBool::new(false),
    };
    let mut errors = Vec::new();
    let cplan = ConsumerPlan {
        queue: &args.queue,
        prefetch: args.prefetch,
        no_ack: args.no_ack,
    };
    let pplan = ProducerPlan {
        queue: &args.queue,
        size: args.size as usize,
        rate: args.rate,
        confirm: args.confirm,
        persistent: args.persistent,
        count: args.pmessages,
    };
    let ready = || {
        control.ready.fetch_add(1, Ordering::SeqCst);
    };
    let done = |idle: Duration| {
        control.abort.load(Ordering::Relaxed)
            || shared.received.load(Ordering::Relaxed) >= control.target.load(Ordering::Relaxed)
            || (control.finished.load(Ordering::Relaxed) && idle >= IDLE_END)
    };
    let producer_ready = || {
        control.producers_ready.fetch_add(1, Ordering::SeqCst);
    };
    let gate = clients::Gate {
        ready: &producer_ready,
        go: &control.go,
        stop: &control.stop,
    };
    let (shared, control, cplan, pplan, ready, done, gate) =
        (&shared, &control, &cplan, &pplan, &ready, &done, &gate);
    let started = std::thread::scope(|scope| {
        let consumers: Vec<_> = (0..args.consumers)
            .map(|_| {
                scope.spawn(move || {
                    let r = clients::consumer(ctx, cplan, shared, ready, done);
                    if r.is_err() {
                        control.failed.store(true, Ordering::SeqCst);
                    }
                    r
                })
            })
            .collect();
        // Start publishing once every consumer is in place (or one of them failed).
        while control.ready.load(Ordering::SeqCst) < consumers.len()
            && !control.failed.load(Ordering::SeqCst)
            && !signals::stop_requested()
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let producers: Vec<_> = (0..args.producers)
            .map(|_| {
                scope.spawn(move || {
                    let r = clients::producer(ctx, pplan, shared, gate);
                    if r.is_err() {
                        control.failed.store(true, Ordering::SeqCst);
                    }
                    r
                })
            })
            .collect();
        // The clock starts once every producer is connected.
        while control.producers_ready.load(Ordering::SeqCst) < producers.len()
            && !control.failed.load(Ordering::SeqCst)
            && !signals::stop_requested()
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        let run_started = Instant::now();
        control.go.store(true, Ordering::SeqCst);
        let ended = report_loop(&args, shared, control, run_started, &producers, &consumers);
        for h in producers.into_iter().chain(consumers) {
            match h.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => errors.push(e),
                Err(_) => errors.push(Error::Other("a perf thread panicked".into())),
            }
        }
        ended.duration_since(run_started)
    });
    let seconds = started.as_secs_f64();
    let counts = shared.counts();
    let total = shared.total.lock().map(|h| h.clone()).unwrap_or_default();
    let info = RunInfo {
        queue: &args.queue,
        producers: args.producers,
        consumers: args.consumers,
        size: args.size as usize,
        confirm: args.confirm,
        persistent: args.persistent,
        seconds,
        interrupted: signals::stop_requested(),
    };
    print_summary(ctx, &info, counts, &total)?;
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    if counts.nacked > 0 {
        return Err(Error::Nacked {
            nacked: counts.nacked,
        });
    }
    Ok(())
}

/// Declare the queue when it is missing (durable with --persistent); use it as it is otherwise.
fn prepare_queue(args: &Args, ctx: &Ctx) -> Result<()> {
    let mut session = ctx.connect("rmq perf")?;
    if session.queue_inspect(&args.queue)?.is_none() {
        let spec = QueueSpec {
            durable: args.persistent,
            ..QueueSpec::default()
        };
        session.queue_declare(&args.queue, &spec)?;
        log::info(&format!("declared queue '{}'", args.queue));
    }
    session.close();
    Ok(())
}

/// Print a line per second until every thread is done; steer the stop. Returns when the run's
/// work was done: every producer finished and every message expected arrived (connection
/// closes after that do not count).
fn report_loop<P, C>(
    args: &Args,
    shared: &Shared,
    control: &Control,
    started: Instant,
    producers: &[std::thread::ScopedJoinHandle<'_, P>],
    consumers: &[std::thread::ScopedJoinHandle<'_, C>],
) -> Instant {
    let mut done_at: Option<Instant> = None;
    let mut before = Counts::default();
    let mut last_line = started;
    let mut finished_at: Option<Instant> = None;
    let mut interval = Histogram::default();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let over_time = args
            .time
            .is_some_and(|t| started.elapsed().as_secs_f64() >= t);
        let interrupted = signals::stop_requested();
        let failed = control.failed.load(Ordering::SeqCst);
        if over_time || interrupted || failed {
            control.stop.store(true, Ordering::Relaxed);
        }
        let ending = !producers.is_empty() || over_time || interrupted || failed;
        if finished_at.is_none() && ending && producers.iter().all(|h| h.is_finished()) {
            if interrupted || failed || args.pmessages.is_none() {
                // Expect what was actually sent (a time-limited or interrupted run).
                let sent = shared.sent.load(Ordering::Relaxed);
                control.target.fetch_min(sent, Ordering::Relaxed);
            }
            control.finished.store(true, Ordering::Relaxed);
            finished_at = Some(Instant::now());
        }
        // Ctrl-C or a failure: consumers get a moment for what is in flight, then stop.
        if (interrupted || failed) && finished_at.is_some_and(|at| at.elapsed() >= IDLE_END) {
            control.abort.store(true, Ordering::Relaxed);
        }
        if last_line.elapsed() >= Duration::from_secs(1) {
            let now = shared.counts();
            if let Ok(mut h) = shared.interval.lock() {
                std::mem::swap(&mut *h, &mut interval);
            }
            let dt = last_line.elapsed().as_secs_f64();
            log::note(&stats::interval_line(
                started.elapsed(),
                now,
                before,
                dt,
                &interval,
                args.confirm.is_some(),
            ));
            interval.clear();
            before = now;
            last_line = Instant::now();
        }
        if done_at.is_none()
            && shared.producers_done.load(Ordering::Relaxed) >= producers.len() as u64
            && (consumers.is_empty()
                || shared.received.load(Ordering::Relaxed)
                    >= control.target.load(Ordering::Relaxed))
        {
            done_at = Some(Instant::now());
        }
        if producers.iter().all(|h| h.is_finished()) && consumers.iter().all(|h| h.is_finished()) {
            return done_at.unwrap_or_else(Instant::now);
        }
    }
}

fn print_summary(ctx: &Ctx, info: &RunInfo, counts: Counts, total: &Histogram) -> Result<()> {
    let mut out = Out::new();
    if ctx.json() {
        out.text(&stats::summary_json(info, counts, total).to_string())?;
    } else {
        out.text(&stats::summary_table(info, counts, total))?;
    }
    out.flush()
}
