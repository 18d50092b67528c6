//! Management API reads of the topology: queues, exchanges and bindings of a vhost, asking
//! the broker only for the fields the listings show. The HTTP client and the error mapping
//! are mgmt/mod.rs's; nothing here prints.

use super::{Api, Subject};
use crate::endpoint::encode_vhost;
use crate::error::Result;
use serde_json::Value;

/// Fields asked for when listing queues (`?columns=`): the server then sends only these.
const QUEUE_COLUMNS: &str = "name,vhost,type,durable,auto_delete,exclusive,arguments,state,policy,\
                             messages,messages_ready,messages_unacknowledged,consumers";
/// What `GET /api/queues/<vhost>?disable_stats=true&enable_queue_totals=true` carries for
/// each queue (RabbitMQ 3.10.8, checked on the benchmark's node): name, vhost, node, type,
/// durable, auto_delete, exclusive, arguments, state, policy (only when one applies),
/// messages, messages_ready, messages_unacknowledged. Not consumers, nor any rate, memory or
/// other per-queue statistic: the broker skips its statistics database, which is most of
/// its time for a large vhost (W8 in scripts/bench).
pub const QUEUE_FIELDS_WITHOUT_STATS: &[&str] = &[
    "name",
    "vhost",
    "node",
    "type",
    "durable",
    "auto_delete",
    "exclusive",
    "arguments",
    "state",
    "policy",
    "messages",
    "messages_ready",
    "messages_unacknowledged",
];

const EXCHANGE_COLUMNS: &str = "name,vhost,type,durable,auto_delete,internal,arguments";

impl Api {
    /// Queues of one vhost, or of every vhost the user can see.
    pub fn queues(&self, vhost: Option<&str>) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        self.queues_each(vhost, None, true, &mut |q| all.push(q))?;
        Ok(all)
    }

    /// Queues of one vhost (or every vhost), each handed to `each` as it is read. `fields`:
    /// the API fields needed (None: those of [`QUEUE_COLUMNS`]); when all are in
    /// [`QUEUE_FIELDS_WITHOUT_STATS`], the broker is asked to leave its statistics out.
    /// `sorted`: in (vhost, name) order, the API's default; otherwise in any order
    /// (`sort=`), which spares the broker a sort that is a third or more of its answer time
    /// for a large vhost (W8 in scripts/bench; newer brokers may sort anyway).
    pub fn queues_each(
        &self,
        vhost: Option<&str>,
        fields: Option<&[&str]>,
        sorted: bool,
        each: &mut dyn FnMut(Value),
    ) -> Result<()> {
        let base = match vhost {
            Some(v) => format!("/api/queues/{}", encode_vhost(v)),
            None => "/api/queues".to_string(),
        };
        let path = match fields {
            Some(f) if without_stats(f) => format!(
                "{base}?disable_stats=true&enable_queue_totals=true&columns={}",
                f.join(",")
            ),
            Some(f) => format!("{base}?columns={}", f.join(",")),
            None => format!("{base}?columns={QUEUE_COLUMNS}"),
        };
        let path = if sorted { path } else { path + "&sort=" };
        self.get_each(&path, vhost, each)
    }

    /// How many consumers each queue has, by (vhost, queue name), from the consumer list
    /// (`/api/consumers`): one object per consumer, which for a vhost of many queues is far
    /// less work for the broker than the queues' statistics.
    pub fn consumer_counts(
        &self,
        vhost: Option<&str>,
    ) -> Result<std::collections::HashMap<(String, String), u64>> {
        let path = super::admin::Kind::Consumers.path(vhost);
        let mut counts = std::collections::HashMap::new();
        self.get_each(&path, vhost, &mut |c| {
            let field = |k: &str| {
                c.get("queue")
                    .and_then(|q| q.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            *counts.entry((field("vhost"), field("name"))).or_insert(0) += 1;
        })?;
        Ok(counts)
    }

    /// Exchanges of one vhost, or of every vhost.
    pub fn exchanges(&self, vhost: Option<&str>) -> Result<Vec<Value>> {
        let path = match vhost {
            Some(v) => format!(
                "/api/exchanges/{}?columns={EXCHANGE_COLUMNS}",
                encode_vhost(v)
            ),
            None => format!("/api/exchanges?columns={EXCHANGE_COLUMNS}"),
        };
        self.get_array(&path, vhost)
    }

    /// Bindings of one vhost (or every vhost), optionally only those of one queue (as
    /// destination) and/or one exchange (as source). The queue and the exchange must exist
    /// (the API itself answers an empty list for names that do not).
    pub fn bindings(
        &self,
        vhost: Option<&str>,
        queue: Option<&str>,
        exchange: Option<&str>,
    ) -> Result<Vec<Value>> {
        let Some(v) = vhost else {
            return self.get_array("/api/bindings", None);
        };
        let ev = encode_vhost(v);
        if let Some(q) = queue {
            self.get(
                &format!("/api/queues/{ev}/{}?columns=name", encode_vhost(q)),
                Subject::Queue(v.into(), q.into()),
            )?;
        }
        if let Some(x) = exchange.filter(|x| !x.is_empty()) {
            self.get(
                &format!("/api/exchanges/{ev}/{}?columns=name", encode_vhost(x)),
                Subject::Exchange(v.into(), x.into()),
            )?;
        }
        let mut all = self.get_array(&format!("/api/bindings/{ev}"), Some(v))?;
        all.retain(|b| {
            let field = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or_default();
            queue.is_none_or(|q| field("destination_type") == "queue" && field("destination") == q)
                && exchange.is_none_or(|x| field("source") == x)
        });
        Ok(all)
    }
}

/// Can the queue fields `fields` come from the cheaper answer without statistics?
pub fn without_stats(fields: &[&str]) -> bool {
    fields
        .iter()
        .all(|f| QUEUE_FIELDS_WITHOUT_STATS.contains(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_consumers_need_statistics() {
        assert!(without_stats(&["name", "vhost", "messages"]));
        assert!(without_stats(QUEUE_FIELDS_WITHOUT_STATS));
        assert!(!without_stats(&["name", "vhost", "consumers"]));
        let every: Vec<&str> = QUEUE_COLUMNS.split(',').collect();
        assert!(!without_stats(&every));
        let rest: Vec<&str> = every.into_iter().filter(|f| *f != "consumers").collect();
        assert!(without_stats(&rest));
    }
}
