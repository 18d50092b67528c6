//! "Declaring on the way" (README, "Connecting"): use what exists, declare what does not, and
//! fail (exit 6) only when a flag the user gave contradicts the existing object. Exact
//! declarations (`queue-declare`, `exchange-declare`) are not here; nothing here prints.

use crate::amqp::{ExchangeKind, ExchangeSpec, QueueInfo, QueueSpec, Session, Table};
use crate::error::{Error, Result};

/// Make sure queue `name` exists. `durable` is `Some(true)` only when `--durable` was given.
pub fn ensure_queue(s: &mut Session, name: &str, durable: bool) -> Result<QueueInfo> {
    if let Some(info) = s.queue_inspect(name)? {
        if durable {
            check_queue_durable(s, name)?;
        }
        crate::log::info(&format!("using existing queue '{name}'"));
        return Ok(info);
    }
    let spec = QueueSpec {
        durable,
        ..QueueSpec::default()
    };
    crate::log::info(&format!(
        "declaring queue '{name}'{}",
        if durable { " (durable)" } else { "" }
    ));
    s.queue_declare(name, &spec)
}

/// `--durable` on an existing queue: the broker checks `durable` before any argument, so a
/// 406 about anything else means durability matched.
fn check_queue_durable(s: &mut Session, name: &str) -> Result<()> {
    let spec = QueueSpec {
        durable: true,
        ..QueueSpec::default()
    };
    match s.queue_declare(name, &spec) {
        Ok(_) => Ok(()),
        Err(Error::Precondition { reason, .. }) if reason.contains("'durable'") => {
            Err(Error::Precondition {
                what: format!(
                    "queue '{name}' in vhost '{}' exists with durable=false, but --durable asks \
                     for durable=true",
                    s.endpoint().vhost
                ),
                reason: reason.clone(),
                hint: format!(
                    "drop --durable to use it as it is, or delete it first: rmq queue-delete {name}"
                ),
            })
        }
        Err(Error::Precondition { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Make sure exchange `name` exists. With `kind`, declare it when missing (or check the type
/// when present); without, it must exist.
pub fn ensure_exchange(
    s: &mut Session,
    name: &str,
    kind: Option<ExchangeKind>,
    durable: bool,
) -> Result<()> {
    if name.is_empty() || name.starts_with("amq.") {
        return Ok(());
    }
    let exists = s.exchange_exists(name)?;
    let Some(kind) = kind else {
        if exists {
            return Ok(());
        }
        return Err(Error::NotFound {
            what: format!("exchange '{name}' in vhost '{}'", s.endpoint().vhost),
            reason: "it does not exist and no -t/--type was given to declare it".into(),
            hint: format!(
                "give its type, e.g. -t fanout, or: rmq exchange-declare {name} -t fanout"
            ),
        });
    };
    let spec = ExchangeSpec {
        kind,
        durable,
        auto_delete: false,
        internal: false,
        args: Table::new(),
    };
    if !exists {
        crate::log::info(&format!("declaring {} exchange '{name}'", kind.as_str()));
        return s.exchange_declare(name, &spec);
    }
    // The broker checks the type first, then durable, then the rest.
    match s.exchange_declare(name, &spec) {
        Ok(()) => Ok(()),
        Err(Error::Precondition { reason, hint, .. }) if reason.contains("'type'") => {
            Err(Error::Precondition {
                what: format!(
                    "exchange '{name}' in vhost '{}' exists with another type than -t {}",
                    s.endpoint().vhost,
                    kind.as_str()
                ),
                reason,
                hint,
            })
        }
        Err(Error::Precondition { reason, hint, .. })
            if durable && reason.contains("'durable'") =>
        {
            Err(Error::Precondition {
                what: format!(
                    "exchange '{name}' in vhost '{}' exists with durable=false, but --durable asks \
                     for durable=true",
                    s.endpoint().vhost
                ),
                reason,
                hint,
            })
        }
        Err(Error::Precondition { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}
