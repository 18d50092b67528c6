//! The publisher-confirm window: which published messages the broker has not confirmed yet,
//! each with the caller's token (what to re-publish, or what to ack at the source).
//! It never talks to the broker and sets no limits; publishing and the window's size are the
//! caller's (`send`, `perf`, `move`).

use crate::amqp::ConfirmEvent;
use std::collections::BTreeMap;

/// Unconfirmed messages by publish sequence number (the channel's delivery tag), oldest first.
#[derive(Debug)]
pub struct ConfirmWindow<T> {
    pending: BTreeMap<u64, T>,
}

impl<T> Default for ConfirmWindow<T> {
    fn default() -> Self {
        ConfirmWindow {
            pending: BTreeMap::new(),
        }
    }
}

/// What one confirm event settled: the broker's verdict and the tokens it covers.
#[derive(Debug)]
pub struct Settled<T> {
    /// An ack (the broker has the messages); false for a nack.
    pub acked: bool,
    one: Option<T>,
    many: BTreeMap<u64, T>,
}

impl<T> Settled<T> {
    /// How many messages the event settled (0 for a tag not in the window).
    pub fn len(&self) -> u64 {
        (usize::from(self.one.is_some()) + self.many.len()) as u64
    }

    /// Whether the event settled nothing.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The settled tokens, oldest first.
    pub fn items(&self) -> impl Iterator<Item = &T> {
        self.one.iter().chain(self.many.values())
    }

    /// The settled tokens, oldest first, by value.
    pub fn into_items(self) -> impl Iterator<Item = T> {
        self.one.into_iter().chain(self.many.into_values())
    }
}

impl<T> ConfirmWindow<T> {
    /// An empty window.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember a message just published with sequence number `tag`.
    pub fn insert(&mut self, tag: u64, token: T) {
        self.pending.insert(tag, token);
    }

    /// Take out what a confirm covers (`multiple`: every tag up to its own).
    pub fn apply(&mut self, event: ConfirmEvent) -> Settled<T> {
        let (tag, multiple, acked) = match event {
            ConfirmEvent::Ack { tag, multiple } => (tag, multiple, true),
            ConfirmEvent::Nack { tag, multiple } => (tag, multiple, false),
        };
        let mut settled = Settled {
            acked,
            one: None,
            many: BTreeMap::new(),
        };
        if multiple {
            let rest = self.pending.split_off(&(tag + 1));
            settled.many = std::mem::replace(&mut self.pending, rest);
        } else {
            settled.one = self.pending.remove(&tag);
        }
        settled
    }

    /// How many messages await their confirm.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether every message published is confirmed.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The oldest unconfirmed message's token.
    #[cfg(test)]
    pub fn oldest(&self) -> Option<&T> {
        self.pending.first_key_value().map(|(_, t)| t)
    }

    /// The newest unconfirmed message's token.
    pub fn newest(&self) -> Option<&T> {
        self.pending.last_key_value().map(|(_, t)| t)
    }

    /// The unconfirmed tokens, oldest first.
    pub fn tokens(&self) -> impl Iterator<Item = &T> {
        self.pending.values()
    }

    /// The unconfirmed tokens, oldest first, to update in place (`move` marks the copies the
    /// broker returned).
    pub fn tokens_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.pending.values_mut()
    }

    /// After a reconnect: publish every unconfirmed message again, oldest first, on the new
    /// channel (`publish` returns the new sequence number), and key them by their new numbers.
    /// When `publish` fails (the connection lost again), the window stays as it was, so that
    /// nothing is forgotten and the next attempt re-publishes them all. Returns how many.
    pub fn republish<E>(&mut self, publish: impl FnMut(&T) -> Result<u64, E>) -> Result<u64, E> {
        let tags = self
            .pending
            .values()
            .map(publish)
            .collect::<Result<Vec<u64>, E>>()?;
        let tokens = std::mem::take(&mut self.pending).into_values();
        self.pending = tags.into_iter().zip(tokens).collect();
        Ok(self.pending.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(tag: u64, multiple: bool) -> ConfirmEvent {
        ConfirmEvent::Ack { tag, multiple }
    }

    fn window(tags: &[u64]) -> ConfirmWindow<char> {
        let mut w = ConfirmWindow::new();
        for (i, &t) in tags.iter().enumerate() {
            w.insert(t, char::from(b'a' + i as u8));
        }
        w
    }

    fn settled<T: Copy>(s: Settled<T>) -> (bool, Vec<T>) {
        (s.acked, s.into_items().collect())
    }

    #[test]
    fn single_ack_settles_only_its_tag() {
        let mut w = window(&[1, 2, 3]);
        assert_eq!(settled(w.apply(ack(2, false))), (true, vec!['b']));
        assert_eq!(w.tokens().copied().collect::<Vec<_>>(), ['a', 'c']);
    }

    #[test]
    fn multiple_ack_settles_every_tag_up_to_its_own() {
        let mut w = window(&[1, 2, 3, 4]);
        let s = w.apply(ack(3, true));
        assert_eq!(s.len(), 3);
        assert_eq!(s.items().copied().collect::<Vec<_>>(), ['a', 'b', 'c']);
        assert_eq!(w.len(), 1);
        assert_eq!(w.oldest(), Some(&'d'));
    }

    #[test]
    fn nacks_say_so() {
        let mut w = window(&[1, 2, 3]);
        let nack = |tag, multiple| ConfirmEvent::Nack { tag, multiple };
        assert_eq!(settled(w.apply(nack(1, false))), (false, vec!['a']));
        assert_eq!(settled(w.apply(nack(3, true))), (false, vec!['b', 'c']));
        assert!(w.is_empty());
    }

    #[test]
    fn unknown_or_repeated_tags_settle_nothing() {
        let mut w = window(&[5, 6]);
        assert!(w.apply(ack(4, false)).is_empty());
        assert!(w.apply(ack(4, true)).is_empty());
        assert_eq!(w.apply(ack(5, false)).len(), 1);
        assert!(w.apply(ack(5, false)).is_empty());
        assert_eq!((w.oldest(), w.newest()), (Some(&'b'), Some(&'b')));
    }

    #[test]
    fn republish_keys_tokens_by_their_new_tags_in_order() {
        let mut w = window(&[7, 9, 12]);
        let mut next = 0;
        let mut order = Vec::new();
        let n = w.republish(|t| -> Result<u64, ()> {
            order.push(*t);
            next += 1;
            Ok(next)
        });
        assert_eq!(n, Ok(3));
        assert_eq!(order, ['a', 'b', 'c']);
        assert_eq!(settled(w.apply(ack(2, true))), (true, vec!['a', 'b']));
        assert_eq!(w.oldest(), Some(&'c'));
    }

    #[test]
    fn failed_republish_forgets_nothing() {
        let mut w = window(&[7, 9, 12]);
        let mut calls = 0;
        let r = w.republish(|_| {
            calls += 1;
            if calls == 2 { Err("lost") } else { Ok(calls) }
        });
        assert_eq!(r, Err("lost"));
        assert_eq!(w.len(), 3);
        assert_eq!(settled(w.apply(ack(9, true))), (true, vec!['a', 'b']));
    }
}
