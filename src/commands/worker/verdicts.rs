//! What `worker` does with a finished task's verdict, on the channel that received the
//! message: ack (and reply, for RPC), requeue or reject; and the counts of those verdicts.
//! Tasks never come here: they only send a verdict (task.rs).

use super::task::{self, Done, Outcome};
use super::{DIRECT_REPLY_TO, OnFailure, Pending, Worker};
use crate::amqp::{ConsumerChannel, Message, Properties};
use crate::error::Result;
use crate::log;
use std::time::Instant;

impl Worker<'_> {
    /// Act on a finished task: ack (and reply), requeue or reject its message.
    pub(super) fn settle(&mut self, ch: &ConsumerChannel, done: Done) -> Result<()> {
        self.running -= 1;
        let Some(p) = self.in_flight.remove(&done.id) else {
            return Ok(());
        };
        self.stats.last = Some(Instant::now());
        if !self.live || p.epoch != self.epoch {
            // Its delivery tag belonged to a channel that is gone; the broker redelivers it.
            self.stats.dropped += 1;
            log::info(&format!(
                "{} finished after its connection was lost: not acked (the broker redelivers it)",
                p.label
            ));
            return Ok(());
        }
        let r = self.apply(ch, p, done);
        if r.is_err() {
            // The channel died under us: the broker redelivers this one too.
            self.stats.dropped += 1;
        }
        r
    }

    /// Ack (and reply), requeue or reject, as the task's outcome says.
    fn apply(&mut self, ch: &ConsumerChannel, p: Pending, done: Done) -> Result<()> {
        match done.outcome {
            Outcome::Ok => {
                if let Some(to) = &p.reply_to {
                    self.reply(ch, to, &p, done.stdout)?;
                }
                ch.ack(p.token, false)?;
                self.stats.acked += 1;
            }
            Outcome::TempFail => {
                ch.nack(p.token, false, true)?;
                self.stats.requeued += 1;
                log::info(&format!(
                    "command exited {} (EX_TEMPFAIL) for {}: requeued",
                    task::EX_TEMPFAIL,
                    p.label
                ));
            }
            Outcome::Failed(why) => self.failed(ch, p, &why)?,
            Outcome::Aborted => {
                ch.nack(p.token, false, true)?;
                self.stats.requeued += 1;
            }
            Outcome::OutputClosed => {
                ch.nack(p.token, false, true)?;
                self.output_closed = true;
            }
        }
        Ok(())
    }

    /// RPC: publish the command's stdout (less one trailing newline) to `to`.
    fn reply(
        &mut self,
        ch: &ConsumerChannel,
        to: &str,
        p: &Pending,
        mut body: Vec<u8>,
    ) -> Result<()> {
        if body.last() == Some(&b'\n') {
            body.pop();
        }
        let reply = Message {
            body,
            props: Properties {
                correlation_id: p.correlation_id.clone(),
                ..Properties::default()
            },
        };
        if to.starts_with(DIRECT_REPLY_TO) {
            // RabbitMQ returns mandatory publishes to direct reply-to even when it
            // delivers them (seen on 3.10): publish those plainly.
            ch.publish("", to, &reply)?;
        } else {
            ch.publish_mandatory("", to, &reply)?;
        }
        self.stats.replied += 1;
        Ok(())
    }

    /// A failed command: requeue or reject, as --on-failure says, and say so.
    fn failed(&mut self, ch: &ConsumerChannel, p: Pending, why: &str) -> Result<()> {
        let requeue = self.args.on_failure == OnFailure::Requeue;
        ch.nack(p.token, false, requeue)?;
        let what = if requeue {
            self.stats.requeued += 1;
            "requeued (--on-failure requeue)".to_string()
        } else {
            self.stats.rejected += 1;
            format!(
                "rejected without requeue: a dead-letter exchange on queue '{}' keeps \
                 it, without one the broker drops it (--on-failure requeue retries \
                 instead)",
                self.queue
            )
        };
        log::warn(&format!("command {why} for {}: {what}", p.label));
        Ok(())
    }
    pub(super) fn summary(&self) {
        if self.epoch == 0 {
            // It never consumed (e.g. the queue declaration failed): nothing to sum up.
            return;
        }
        let s = &self.stats;
        let processed = s.acked + s.rejected + s.requeued;
        let mut line = format!(
            "processed {processed} message(s) from queue '{}' in {:.1} s: acked {}, rejected {}, \
             requeued {}",
            self.queue,
            self.started.elapsed().as_secs_f64(),
            s.acked,
            s.rejected,
            s.requeued
        );
        if s.replied > 0 {
            line += &format!(", replied {}", s.replied);
        }
        if let (Some(first), Some(last)) = (s.first, s.last)
            && processed > 1
            && last > first
        {
            let span = (last - first).as_secs_f64();
            let rate = processed as f64 / span;
            line += &format!(" (first to last message: {span:.1} s, {rate:.0} msg/s)");
        }
        if s.dropped > 0 {
            line += &format!(
                "; {} task(s) finished after their connection was lost: not acked, the broker \
                 redelivers those messages",
                s.dropped
            );
        }
        log::note(&line);
    }
}

/// "message id 'm-1' (routing key 'jobs', delivery tag 7)".
pub(super) fn label_of(p: &Properties, routing_key: &str, tag: u64) -> String {
    let id = match &p.message_id {
        Some(id) => format!("message id '{id}'"),
        None => "message (no message id)".into(),
    };
    format!("{id} (routing key '{routing_key}', delivery tag {tag})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_the_message() {
        let p = Properties {
            message_id: Some("m-1".into()),
            ..Properties::default()
        };
        assert_eq!(
            label_of(&p, "jobs", 7),
            "message id 'm-1' (routing key 'jobs', delivery tag 7)"
        );
        assert_eq!(
            label_of(&Properties::default(), "k", 1),
            "message (no message id) (routing key 'k', delivery tag 1)"
        );
    }
}
