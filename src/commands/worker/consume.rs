//! `worker`'s consume loop on one live channel: take deliveries, hand them to the task pool,
//! wait on both, and stop taking messages on Ctrl-C. What a verdict does is verdicts.rs's;
//! what a lost connection does is reconnect.rs's.

use super::task::Job;
use super::{End, Pending, TICK, Worker, reconnect};
use crate::amqp::{Consumer, ConsumerChannel, Delivery, Event, Next, Session};
use crate::declare;
use crate::envelope;
use crate::error::{Error, Result};
use crate::{log, signals};
use std::time::{Duration, Instant};

impl Worker<'_> {
    /// Declare, consume and work until stopped or the connection is lost.
    pub(super) fn serve(&mut self, session: &mut Session) -> End {
        let ch = match self.open(session) {
            Ok(ch) => ch,
            Err(e) => return reconnect::classify(e),
        };
        let consumer = match ch.consume(&self.queue, false, false) {
            Ok(c) => c,
            Err(e) => return reconnect::classify(e),
        };
        self.epoch += 1;
        self.live = true;
        if self.epoch == 1 {
            log::note(&format!(
                "waiting for messages on queue '{}' (prefetch {}); Ctrl-C to stop",
                self.queue, self.prefetch
            ));
        }
        let end = self.pump(&ch, &consumer);
        if matches!(end, End::Lost(_)) {
            self.lost();
        }
        drop(consumer);
        ch.close();
        end
    }

    /// Declare the queue (unless --no-declare) and open the consuming channel.
    fn open(&mut self, session: &mut Session) -> Result<ConsumerChannel> {
        if !self.args.no_declare {
            declare::ensure_queue(session, &self.queue, self.args.durable)?;
        }
        log::info(&format!("consuming from queue '{}'", self.queue));
        session.consumer_channel(Some(self.prefetch))
    }

    /// The main loop on a live channel.
    fn pump(&mut self, ch: &ConsumerChannel, consumer: &Consumer<'_>) -> End {
        loop {
            if (signals::stop_requested() || self.output_closed) && !self.draining {
                self.begin_drain(ch, Some(consumer));
            }
            self.check_abort();
            if self.draining && self.running == 0 {
                return match self.failure.take() {
                    Some(e) => End::Failed(e),
                    None => End::Stopped,
                };
            }
            self.dispatch();
            let next = if self.draining {
                // The consumer is cancelled: only finishing tasks matter now.
                match self.pool.done().recv_timeout(TICK) {
                    Ok(d) => Next::Other(d),
                    Err(_) => Next::Event(Event::Idle),
                }
            } else {
                consumer.next_or(self.pool.done(), TICK)
            };
            let step = match next {
                Next::Other(done) => self.settle(ch, done),
                Next::Event(Event::Delivery(d)) => {
                    self.accept(*d);
                    Ok(())
                }
                Next::Event(Event::Idle) => Ok(()),
                Next::Event(Event::Cancelled) => {
                    self.failure = Some(Error::Other(format!(
                        "the broker cancelled the consumer on queue '{}' (was it deleted?)",
                        self.queue
                    )));
                    self.begin_drain(ch, None);
                    Ok(())
                }
                Next::Event(Event::Closed(e)) => Err(e),
            };
            if let Err(e) = step {
                return reconnect::classify(e);
            }
            for r in ch.returned() {
                log::warn(&format!(
                    "the reply to '{}' was returned unroutable ({} {}): the caller is gone \
                     (timed out?)",
                    r.routing_key, r.reply_code, r.reply_text
                ));
            }
        }
    }

    /// A delivery: remember its token, queue its job.
    fn accept(&mut self, d: Delivery) {
        self.stats.first.get_or_insert_with(Instant::now);
        let id = self.next_id;
        self.next_id += 1;
        let props = &d.message.props;
        let reply_to = props
            .reply_to
            .clone()
            .filter(|r| self.reply && !r.is_empty());
        let job = Job {
            id,
            env: env_of(&d),
            capture: reply_to.is_some(),
            body: d.message.body,
        };
        self.in_flight.insert(
            id,
            Pending {
                label: super::verdicts::label_of(&d.message.props, &d.routing_key, d.token.tag()),
                token: d.token,
                epoch: self.epoch,
                reply_to,
                correlation_id: d.message.props.correlation_id,
            },
        );
        self.backlog.push_back(job);
    }

    /// Start backlog jobs while fewer than --concurrency run.
    fn dispatch(&mut self) {
        while self.running < self.concurrency && !self.draining {
            let Some(job) = self.backlog.pop_front() else {
                break;
            };
            self.running += 1;
            self.pool.start(job);
        }
    }

    /// First Ctrl-C (or a closed stdout, or a cancelled consumer): take no more messages and
    /// give back the ones not started; running tasks go on.
    fn begin_drain(&mut self, ch: &ConsumerChannel, consumer: Option<&Consumer<'_>>) {
        self.draining = true;
        if let Some(c) = consumer {
            let _ = c.cancel();
            // Deliveries that crossed the cancel: back to the queue at once.
            while let Event::Delivery(d) = c.next(Duration::ZERO) {
                let _ = ch.nack(d.token, false, true);
            }
        }
        for job in std::mem::take(&mut self.backlog) {
            if let Some(p) = self.in_flight.remove(&job.id) {
                let _ = ch.nack(p.token, false, true);
            }
        }
        if self.running > 0 && signals::stop_requested() {
            log::note(&format!(
                "stopping: waiting for {} running task(s) to finish (Ctrl-C again to kill them \
                 and requeue their messages)",
                self.running
            ));
        }
    }

    /// Second Ctrl-C: kill what runs (once).
    pub(super) fn check_abort(&mut self) {
        if signals::count() >= 2 && self.aborted == 0 && self.running > 0 {
            self.pool.abort_all();
            self.aborted = self.running;
            log::note(&format!(
                "stopping {} running task(s) now; their messages go back to the queue",
                self.running
            ));
        }
    }
}

/// The command's environment for a delivery.
fn env_of(d: &Delivery) -> Vec<(&'static str, String)> {
    let p = &d.message.props;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("RMQ_EXCHANGE", d.exchange.clone()),
        ("RMQ_ROUTING_KEY", d.routing_key.clone()),
        ("RMQ_REDELIVERED", d.redelivered.to_string()),
        ("RMQ_MESSAGE_ID", s(&p.message_id)),
        ("RMQ_CORRELATION_ID", s(&p.correlation_id)),
        ("RMQ_REPLY_TO", s(&p.reply_to)),
        (
            "RMQ_HEADERS",
            p.headers
                .as_ref()
                .map_or_else(|| "{}".into(), |h| envelope::table_to_json(h).to_string()),
        ),
    ]
}
