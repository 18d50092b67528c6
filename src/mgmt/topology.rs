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
const EXCHANGE_COLUMNS: &str = "name,vhost,type,durable,auto_delete,internal,arguments";

impl Api {
    /// Queues of one vhost, or of every vhost the user can see.
    pub fn queues(&self, vhost: Option<&str>) -> Result<Vec<Value>> {
        let path = match vhost {
            Some(v) => format!("/api/queues/{}?columns={QUEUE_COLUMNS}", encode_vhost(v)),
            None => format!("/api/queues?columns={QUEUE_COLUMNS}"),
        };
        self.get_array(&path, vhost)
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
