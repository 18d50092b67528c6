//! `send`'s publishing loop: read the input, publish each message mandatory, keep the
//! unconfirmed ones in the confirm window (bounded in count and bytes), take in confirms and
//! returns. Reconnecting is reconnect.rs's, the final report summary.rs's.

use super::plan::{self, Dest, Target};
use super::{Args, InFlight, Sender, Stats, watchdog};
use crate::amqp::{ConfirmEvent, Message, Session};
use crate::confirm::ConfirmWindow;
use crate::ctx::Ctx;
use crate::declare;
use crate::error::{Error, Result};
use crate::input::Input;
use crate::log;
use crate::progress::Progress;
use crate::signals;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How long a wait for input goes before the confirms are looked at again.
const INPUT_POLL: Duration = Duration::from_millis(100);
/// At most this many unconfirmed messages in flight.
const WINDOW: usize = 2048;
/// At most this many bytes of unconfirmed bodies kept for re-publishing.
const WINDOW_BYTES: usize = 2 << 20;
/// The same with large messages (see [`plan::large_bodies`]). Unconfirmed bytes are also what
/// rmq's memory holds on the way to the socket, shared `--repeat` bodies included: amiquip's
/// I/O thread moves queued frames into its write buffer in one pass for as long as the
/// publisher keeps refilling the queue. A larger window lets the broker write and confirm in
/// larger batches, at the cost of peak RSS; beyond 16 MiB only the RSS grew (scripts/bench W5).
const WINDOW_BYTES_LARGE: usize = 16 << 20;

impl<'a> Sender<'a> {
    /// Declare the target (unless the first message checks it), open the publisher.
    pub(super) fn new(
        ctx: &'a Ctx,
        args: &'a Args,
        target: Target,
        mut session: Session,
        large: bool,
    ) -> Result<Self> {
        let confirm = !args.no_confirm;
        let probe = plan::probe_queue(&target, args);
        if probe.is_none() {
            plan::declare_target(&mut session, &target, args)?;
        }
        let publisher = session.publisher(confirm)?;
        let watch = watchdog::Watch::start(
            args.timeout,
            target.describe(),
            confirm,
            ctx.json(),
            session.blocked_listener(),
            publisher.meter(),
        );
        let total = if args.body.is_empty() {
            None
        } else {
            Some(args.repeat)
        };
        Ok(Sender {
            ctx,
            args,
            target,
            session,
            publisher,
            confirm,
            window: ConfirmWindow::new(),
            pending_bytes: 0,
            retained_bytes: 0,
            large,
            last_dest: None,
            stats: Stats::default(),
            base_props: plan::base_properties(args),
            progress: Progress::new(total, args.repeat > 1 || args.body.is_empty()),
            started: Instant::now(),
            last_progress: Instant::now(),
            watch,
            run_id: args.auto_message_id.then(plan::run_id),
            losses_in_a_row: 0,
            probe,
            probe_missed: false,
        })
    }

    /// Read and publish everything; an input error stops the run after what came before.
    pub(super) fn pump(&mut self, mut input: Input) -> Result<()> {
        loop {
            self.await_input(&input)?;
            if signals::stop_requested() {
                return Err(Error::Interrupted("stopped reading input".into()));
            }
            let Some(item) = input.next_item()? else {
                return Ok(());
            };
            self.input_arrived();
            let (exchange, routing_key, message) = self.resolve(item)?;
            let dest = self.dest(exchange, routing_key);
            let message = Rc::new(message);
            for _ in 0..self.args.repeat {
                self.publish_shared(&dest, &message)?;
            }
        }
    }

    /// While the input is silent (a slow pipe, `tail -f`), look at the connection rather than
    /// block on the read: take the confirms in, and notice a connection that died meanwhile
    /// (missed heartbeats on a half-open path), so that its unconfirmed messages are
    /// re-published and the next line goes out on a new connection without waiting for it.
    /// Without confirms there is nothing to look at (and no reconnecting).
    fn await_input(&mut self, input: &Input) -> Result<()> {
        while self.confirm && !signals::stop_requested() && !input.ready(INPUT_POLL) {
            self.drain(Duration::ZERO)?;
        }
        Ok(())
    }

    /// Time spent waiting for input is not the broker's delay (--timeout).
    pub(super) fn input_arrived(&mut self) {
        if self.window.is_empty() {
            self.last_progress = Instant::now();
        }
    }

    /// Publish one message (interactive mode).
    pub(super) fn publish(
        &mut self,
        exchange: &str,
        routing_key: &str,
        message: Message,
    ) -> Result<()> {
        let dest = self.dest(exchange.to_string(), routing_key.to_string());
        self.publish_shared(&dest, &Rc::new(message))
    }

    /// Publish, remember it until confirmed, and keep the window within bounds.
    pub(super) fn publish_shared(&mut self, dest: &Rc<Dest>, message: &Rc<Message>) -> Result<()> {
        let message = &self.with_auto_id(message);
        loop {
            match self
                .publisher
                .publish(&dest.exchange, &dest.routing_key, message, true)
            {
                Ok(tag) => {
                    self.stats.sent += 1;
                    self.progress.inc();
                    if self.confirm {
                        let copy = self
                            .window
                            .newest()
                            .is_some_and(|p| Rc::ptr_eq(&p.message, message));
                        let retained = if copy { 0 } else { message.body.len() };
                        self.pending_bytes += message.body.len();
                        self.retained_bytes += retained;
                        self.window.insert(
                            tag,
                            InFlight {
                                seq: self.stats.sent,
                                dest: dest.clone(),
                                message: message.clone(),
                                retained,
                            },
                        );
                    }
                    break;
                }
                Err(e) => self.recover(e)?,
            }
        }
        if self.probe.is_some() {
            return self.settle_probe(dest, message);
        }
        if self.stats.sent.is_multiple_of(256) {
            self.drain(Duration::ZERO)?;
        }
        while self.confirm && self.window_full() {
            self.drain(Duration::from_millis(100))?;
        }
        Ok(())
    }

    /// Whether to wait for confirms before the next publish.
    fn window_full(&self) -> bool {
        let max_bytes = if self.large {
            WINDOW_BYTES_LARGE
        } else {
            WINDOW_BYTES
        };
        self.window.len() >= WINDOW
            || self.retained_bytes > WINDOW_BYTES
            || self.pending_bytes > max_bytes
    }

    /// Process confirms (waiting up to `wait` for the first) and returns.
    pub(super) fn drain(&mut self, wait: Duration) -> Result<()> {
        match self
            .publisher
            .confirms(wait, plan::exchange_of(&self.target))
        {
            Ok(events) => {
                if !events.is_empty() {
                    self.last_progress = Instant::now();
                    self.losses_in_a_row = 0;
                }
                for e in events {
                    self.apply(e);
                }
            }
            Err(e) => self.recover(e)?,
        }
        self.take_returns();
        self.check_blocked()?;
        Ok(())
    }

    /// Settle what a confirm covers: count it, and let go of the bodies kept for it.
    pub(super) fn apply(&mut self, event: ConfirmEvent) {
        let settled = self.window.apply(event);
        for m in settled.items() {
            self.pending_bytes = self.pending_bytes.saturating_sub(m.message.body.len());
            self.retained_bytes = self.retained_bytes.saturating_sub(m.retained);
        }
        if settled.acked {
            self.stats.confirmed += settled.len();
        } else {
            self.stats.nacked += settled.len();
        }
    }

    /// The first message to an unchecked queue: wait for its confirm. Returned unroutable
    /// means the queue does not exist: declare it and publish the message again.
    fn settle_probe(&mut self, dest: &Rc<Dest>, message: &Rc<Message>) -> Result<()> {
        while self.probe.is_some() && !self.window.is_empty() {
            self.drain(Duration::from_millis(100))?;
        }
        let Some(queue) = self.probe.take() else {
            // A reconnect declared the queue and published the message again.
            return Ok(());
        };
        if !std::mem::take(&mut self.probe_missed) {
            return Ok(());
        }
        // Not delivered: it is sent again below, and counted then.
        self.stats.sent -= 1;
        self.stats.confirmed = self.stats.confirmed.saturating_sub(1);
        declare::ensure_queue(&mut self.session, &queue, self.args.durable)?;
        self.publish_shared(dest, message)
    }

    /// Count the messages returned unroutable (the first five are named).
    pub(super) fn take_returns(&mut self) {
        for r in self.publisher.returned() {
            if let Some(q) = &self.probe
                && r.reply_code == 312
                && r.exchange.is_empty()
                && r.routing_key == *q
            {
                self.probe_missed = true;
                continue;
            }
            self.stats.returned += 1;
            if self.stats.returned <= 5 {
                self.progress.suspend(|| {
                    log::warn(&format!(
                        "message returned unroutable: exchange '{}', routing key '{}' ({} {})",
                        r.exchange, r.routing_key, r.reply_code, r.reply_text
                    ))
                });
            }
        }
    }

    /// Hand the counts to the watchdog (which also reports the broker's flow-control
    /// notices), and enforce --timeout: no confirm for SECS while some are awaited.
    fn check_blocked(&mut self) -> Result<()> {
        self.watch.update(&self.stats, self.window.len());
        if let Some(t) = self.args.timeout
            && self.last_progress.elapsed() > Duration::from_secs_f64(t)
            && !self.window.is_empty()
        {
            let why = match self.watch.blocked() {
                Some(reason) => format!("broker blocked publishing: {}", watchdog::alarm(&reason)),
                None => "no publisher confirms arrived".to_string(),
            };
            return Err(Error::Timeout(format!(
                "{why} for {t} s; {} message(s) unconfirmed",
                self.window.len()
            )));
        }
        Ok(())
    }

    /// Wait for every confirm (up to `limit`); without confirms, a round trip.
    pub(super) fn settle(&mut self, limit: Option<Duration>) -> Result<()> {
        let started = Instant::now();
        if !self.confirm {
            let r = self.publisher.sync(plan::exchange_of(&self.target));
            self.take_returns();
            return r;
        }
        while !self.window.is_empty() {
            if limit.is_some_and(|l| started.elapsed() > l) {
                return Err(Error::Timeout(format!(
                    "{} message(s) still unconfirmed",
                    self.window.len()
                )));
            }
            self.drain(Duration::from_millis(100))?;
        }
        self.take_returns();
        Ok(())
    }
}
