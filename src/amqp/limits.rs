//! AMQP's size limits, checked before anything reaches the broker (which would close the
//! whole connection with a FRAME_ERROR): short strings, headers that fit in a frame.

use super::message::{Message, Table, Value};
use crate::error::{Error, Result};
use crate::kv::shorten;

/// Longest AMQP short string: queue, exchange and vhost names, routing keys, header names,
/// most properties.
pub const MAX_SHORT: usize = 255;
/// Room for the properties and headers of one message: they travel in a single frame, and
/// RabbitMQ's frame_max is 131072 bytes by default (less 8 bytes of frame overhead and a
/// margin for the property flags).
pub const MAX_PROPERTIES: usize = 131_072 - 64;

pub(super) fn short_str(what: &str, s: &str) -> Result<()> {
    check_short(what, s).map_err(Error::Usage)
}

fn check_short(what: &str, s: &str) -> std::result::Result<(), String> {
    if s.len() > MAX_SHORT {
        Err(format!(
            "{what} '{}' is {} bytes long; AMQP allows at most {MAX_SHORT}",
            shorten(s, 40),
            s.len()
        ))
    } else {
        Ok(())
    }
}

/// Can this message be published as it is? Names and properties within AMQP's limits, and
/// headers that fit in a frame. The error says what is wrong (the caller adds where).
pub fn check_publish(
    exchange: &str,
    routing_key: &str,
    msg: &Message,
) -> std::result::Result<(), String> {
    check_short("exchange name", exchange)?;
    check_short("routing key", routing_key)?;
    let p = &msg.props;
    for (what, v) in [
        ("content-type", &p.content_type),
        ("content-encoding", &p.content_encoding),
        ("correlation-id", &p.correlation_id),
        ("reply-to", &p.reply_to),
        ("expiration", &p.expiration),
        ("message-id", &p.message_id),
        ("type", &p.kind),
        ("user-id", &p.user_id),
        ("app-id", &p.app_id),
        ("cluster-id", &p.cluster_id),
    ] {
        if let Some(v) = v {
            check_short(what, v)?;
        }
    }
    if let Some(e) = &p.expiration
        && e.parse::<u32>().is_err()
    {
        return Err(format!(
            "expiration '{}' is not a number of milliseconds (0 to 4294967295)",
            shorten(e, 40)
        ));
    }
    if let Some(h) = &p.headers {
        check_table_keys(h)?;
        let size = table_size(h);
        if size > MAX_PROPERTIES {
            return Err(format!(
                "the headers take {size} bytes; with the other properties they must fit in one \
                 frame (RabbitMQ's frame_max, 131072 bytes by default): put large data in the body"
            ));
        }
    }
    Ok(())
}

fn check_table_keys(t: &Table) -> std::result::Result<(), String> {
    for (k, v) in t {
        check_short("header name", k)?;
        match v {
            Value::Table(t) => check_table_keys(t)?,
            Value::Array(a) => {
                for x in a {
                    if let Value::Table(t) = x {
                        check_table_keys(t)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Encoded size of a field table (close to the wire size, never less).
fn table_size(t: &Table) -> usize {
    4 + t
        .iter()
        .map(|(k, v)| 1 + k.len() + value_size(v))
        .sum::<usize>()
}

fn value_size(v: &Value) -> usize {
    1 + match v {
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) | Value::Timestamp(_) => 8,
        Value::Decimal { .. } => 5,
        Value::Str(s) => 4 + s.len(),
        Value::Bytes(b) => 4 + b.len(),
        Value::Array(a) => 4 + a.iter().map(value_size).sum::<usize>(),
        Value::Table(t) => table_size(t),
        Value::Void => 0,
    }
}

/// Exchange and queue names given on the command line are AMQP short strings.
pub fn check_name(name: &str) -> Result<()> {
    if name.len() > MAX_SHORT {
        return Err(Error::Usage(format!(
            "name '{}...' is longer than {MAX_SHORT} bytes",
            &name[..name.floor_char_boundary(40)]
        )));
    }
    Ok(())
}
