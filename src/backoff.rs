//! Reconnect backoff: how long to wait before the next attempt, doubling up to a ceiling,
//! and (optionally) when to give up. It never sleeps or connects itself; the reconnect loops
//! (`send`, `worker`, `move`) do, as each has its own work to do while it waits.

use std::time::{Duration, Instant};

/// The first pause between attempts.
const FIRST: Duration = Duration::from_millis(200);

/// Pauses of 200 ms, 400 ms, 800 ms, ... up to `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
    give_up_at: Option<Instant>,
}

impl Backoff {
    /// Pauses doubling from 200 ms up to `max`, for as long as the caller goes on.
    pub fn new(max: Duration) -> Self {
        Backoff {
            next: FIRST.min(max),
            max,
            give_up_at: None,
        }
    }

    /// The same, with [`Backoff::expired`] true once `limit` has passed from now.
    pub fn for_at_most(max: Duration, limit: Duration) -> Self {
        Backoff {
            give_up_at: Some(Instant::now() + limit),
            ..Self::new(max)
        }
    }

    /// The pause before the next attempt; each call doubles the one after it.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (delay * 2).min(self.max);
        delay
    }

    /// Whether the time given to [`Backoff::for_at_most`] is over (never without one).
    pub fn expired(&self) -> bool {
        self.give_up_at.is_some_and(|t| Instant::now() >= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn delays_double_up_to_the_ceiling() {
        let mut b = Backoff::new(Duration::from_secs(3));
        let delays: Vec<_> = (0..7).map(|_| b.next_delay()).collect();
        assert_eq!(
            delays,
            [
                ms(200),
                ms(400),
                ms(800),
                ms(1600),
                ms(3000),
                ms(3000),
                ms(3000)
            ]
        );
    }

    #[test]
    fn a_ceiling_below_the_first_pause_wins() {
        let mut b = Backoff::new(ms(50));
        assert_eq!((b.next_delay(), b.next_delay()), (ms(50), ms(50)));
    }

    #[test]
    fn without_a_limit_it_never_expires() {
        let mut b = Backoff::new(ms(1));
        b.next_delay();
        assert!(!b.expired());
    }

    #[test]
    fn expires_once_the_limit_has_passed() {
        assert!(!Backoff::for_at_most(ms(5), Duration::from_secs(60)).expired());
        let b = Backoff::for_at_most(ms(5), Duration::ZERO);
        assert!(b.expired());
    }
}
