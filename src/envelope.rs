//! The JSON envelope of `receive --json` / `peek --json`, read back by `send --ndjson`.
//!
//! `{"exchange":..,"routing_key":..,"redelivered":..,"properties":{..},"headers":{..},
//! "body":".."}` with `body_base64` instead of `body` when the body is not UTF-8. Header
//! values that JSON cannot tell apart are tagged: `{"$base64":..}` (byte array),
//! `{"$timestamp":n}`, `{"$decimal":{"scale":s,"value":v}}`. A delivery from a stream adds
//! `"offset"` (ignored when read back).

use crate::amqp::{Delivery, Message, Properties, Table, Value};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value as J, json};

/// A parsed envelope: where it was published, and the message.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Exchange, if the envelope names one.
    pub exchange: Option<String>,
    /// Routing key, if the envelope names one.
    pub routing_key: Option<String>,
    /// The message.
    pub message: Message,
}

/// The envelope of a delivery, as one JSON object. A delivery from a stream also carries its
/// `offset` (the broker's `x-stream-offset` header), so a script can resume from there.
pub fn to_json(d: &Delivery) -> J {
    let mut j = message_to_json(&d.exchange, &d.routing_key, d.redelivered, &d.message);
    if let (Some(offset), J::Object(m)) = (stream_offset(&d.message), &mut j) {
        m.insert("offset".into(), J::from(offset));
    }
    j
}

/// The stream offset of a message read from a stream.
pub fn stream_offset(msg: &Message) -> Option<i64> {
    match msg.props.headers.as_ref()?.get("x-stream-offset")? {
        Value::Int(n) => Some(*n),
        _ => None,
    }
}

/// The envelope of a message published to `exchange` with `routing_key`.
pub fn message_to_json(exchange: &str, routing_key: &str, redelivered: bool, msg: &Message) -> J {
    let mut m = Map::new();
    m.insert("exchange".into(), J::String(exchange.to_string()));
    m.insert("routing_key".into(), J::String(routing_key.to_string()));
    m.insert("redelivered".into(), J::Bool(redelivered));
    m.insert("properties".into(), props_to_json(&msg.props));
    if let Some(h) = &msg.props.headers {
        m.insert("headers".into(), table_to_json(h));
    }
    match std::str::from_utf8(&msg.body) {
        Ok(s) => m.insert("body".into(), J::String(s.to_string())),
        Err(_) => m.insert("body_base64".into(), J::String(B64.encode(&msg.body))),
    };
    J::Object(m)
}

fn props_to_json(p: &Properties) -> J {
    let mut m = Map::new();
    let mut s = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), J::String(v.clone()));
        }
    };
    s("content_type", &p.content_type);
    s("content_encoding", &p.content_encoding);
    s("correlation_id", &p.correlation_id);
    s("reply_to", &p.reply_to);
    s("expiration", &p.expiration);
    s("message_id", &p.message_id);
    s("type", &p.kind);
    s("user_id", &p.user_id);
    s("app_id", &p.app_id);
    s("cluster_id", &p.cluster_id);
    if let Some(v) = p.delivery_mode {
        m.insert("delivery_mode".into(), json!(v));
    }
    if let Some(v) = p.priority {
        m.insert("priority".into(), json!(v));
    }
    if let Some(v) = p.timestamp {
        m.insert("timestamp".into(), json!(v));
    }
    J::Object(m)
}

/// A header/argument table as JSON.
pub fn table_to_json(t: &Table) -> J {
    J::Object(
        t.iter()
            .map(|(k, v)| (k.clone(), value_to_json(v)))
            .collect(),
    )
}

fn value_to_json(v: &Value) -> J {
    match v {
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::Decimal { scale, value } => json!({"$decimal": {"scale": scale, "value": value}}),
        Value::Str(s) => J::String(s.clone()),
        Value::Bytes(b) => json!({"$base64": B64.encode(b)}),
        Value::Array(a) => J::Array(a.iter().map(value_to_json).collect()),
        Value::Table(t) => table_to_json(t),
        Value::Timestamp(t) => json!({"$timestamp": t}),
        Value::Void => J::Null,
    }
}

/// Parse one NDJSON line into an envelope. Errors say what is wrong (no line number: the
/// caller adds it).
pub fn parse(line: &[u8]) -> Result<Envelope, String> {
    let v: J = serde_json::from_slice(line).map_err(|e| format!("not valid JSON: {e}"))?;
    let J::Object(obj) = v else {
        return Err("expected a JSON object (an envelope from rmq receive --json)".into());
    };
    let mut env = Envelope {
        exchange: None,
        routing_key: None,
        message: Message::default(),
    };
    let mut body = None;
    for (k, v) in obj {
        match k.as_str() {
            "exchange" => env.exchange = Some(string(&k, v)?),
            "routing_key" => env.routing_key = Some(string(&k, v)?),
            "redelivered" | "offset" => {}
            "properties" => env.message.props = props_from_json(v, env.message.props)?,
            "headers" => match v {
                J::Null => {}
                J::Object(_) => env.message.props.headers = Some(table_from_json(&v, "headers")?),
                _ => return Err("'headers' must be an object".into()),
            },
            "body" => {
                if body.is_some() {
                    return Err("give either 'body' or 'body_base64', not both".into());
                }
                body = Some(string(&k, v)?.into_bytes());
            }
            "body_base64" => {
                if body.is_some() {
                    return Err("give either 'body' or 'body_base64', not both".into());
                }
                let s = string(&k, v)?;
                body = Some(
                    B64.decode(s.as_bytes())
                        .map_err(|e| format!("'body_base64' is not valid base64: {e}"))?,
                );
            }
            other => return Err(format!("unknown field '{other}'")),
        }
    }
    env.message.body = body.ok_or("missing 'body' (or 'body_base64')")?;
    Ok(env)
}

fn string(key: &str, v: J) -> Result<String, String> {
    match v {
        J::String(s) => Ok(s),
        other => Err(format!("'{key}' must be a string, got {}", kind(&other))),
    }
}

fn kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "an array",
        J::Object(_) => "an object",
    }
}

fn props_from_json(v: J, mut p: Properties) -> Result<Properties, String> {
    let J::Object(obj) = v else {
        return Err("'properties' must be an object".into());
    };
    for (k, v) in obj {
        let key = format!("properties.{k}");
        match k.as_str() {
            "content_type" => p.content_type = Some(short(&key, v)?),
            "content_encoding" => p.content_encoding = Some(short(&key, v)?),
            "correlation_id" => p.correlation_id = Some(short(&key, v)?),
            "reply_to" => p.reply_to = Some(short(&key, v)?),
            "expiration" => p.expiration = Some(short(&key, v)?),
            "message_id" => p.message_id = Some(short(&key, v)?),
            "type" => p.kind = Some(short(&key, v)?),
            "user_id" => p.user_id = Some(short(&key, v)?),
            "app_id" => p.app_id = Some(short(&key, v)?),
            "cluster_id" => p.cluster_id = Some(short(&key, v)?),
            "delivery_mode" => p.delivery_mode = Some(small_uint(&key, &v, 2)?),
            "priority" => p.priority = Some(small_uint(&key, &v, 255)?),
            "timestamp" => {
                p.timestamp = Some(
                    v.as_u64()
                        .ok_or(format!("'{key}' must be a whole number of seconds"))?,
                )
            }
            "headers" => p.headers = Some(table_from_json(&v, &key)?),
            other => return Err(format!("unknown property '{other}'")),
        }
    }
    Ok(p)
}

fn short(key: &str, v: J) -> Result<String, String> {
    let s = string(key, v)?;
    if s.len() > 255 {
        return Err(format!("'{key}' is longer than 255 bytes"));
    }
    Ok(s)
}

fn small_uint(key: &str, v: &J, max: u64) -> Result<u8, String> {
    match v.as_u64() {
        Some(n) if n <= max => Ok(n as u8),
        _ => Err(format!("'{key}' must be a whole number from 0 to {max}")),
    }
}

fn table_from_json(v: &J, key: &str) -> Result<Table, String> {
    let J::Object(obj) = v else {
        return Err(format!("'{key}' must be an object"));
    };
    obj.iter()
        .map(|(k, v)| Ok((k.clone(), value_from_json(v, &format!("{key}.{k}"))?)))
        .collect()
}

fn value_from_json(v: &J, key: &str) -> Result<Value, String> {
    Ok(match v {
        J::Null => Value::Void,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None if n.is_u64() => return Err(format!("'{key}' is too large for a header")),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => Value::Str(s.clone()),
        J::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| value_from_json(x, &format!("{key}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        J::Object(o) => {
            if o.len() == 1
                && let Some(tagged) = tagged_value(o, key)?
            {
                return Ok(tagged);
            }
            Value::Table(table_from_json(v, key)?)
        }
    })
}

fn tagged_value(o: &Map<String, J>, key: &str) -> Result<Option<Value>, String> {
    if let Some(b) = o.get("$base64") {
        let s = b
            .as_str()
            .ok_or(format!("'{key}.$base64' must be a string"))?;
        return B64
            .decode(s.as_bytes())
            .map(|b| Some(Value::Bytes(b)))
            .map_err(|e| format!("'{key}.$base64' is not valid base64: {e}"));
    }
    if let Some(t) = o.get("$timestamp") {
        return t
            .as_u64()
            .map(|t| Some(Value::Timestamp(t)))
            .ok_or(format!("'{key}.$timestamp' must be a whole number"));
    }
    if let Some(d) = o.get("$decimal") {
        let scale = d.get("scale").and_then(J::as_u64).filter(|s| *s <= 255);
        let value = d
            .get("value")
            .and_then(J::as_u64)
            .filter(|v| *v <= u64::from(u32::MAX));
        return match (scale, value) {
            (Some(s), Some(v)) => Ok(Some(Value::Decimal {
                scale: s as u8,
                value: v as u32,
            })),
            _ => Err(format!(
                "'{key}.$decimal' needs scale (0-255) and value (u32)"
            )),
        };
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_say_why() {
        assert!(parse(b"{").unwrap_err().contains("not valid JSON"));
        assert!(parse(b"[1]").unwrap_err().contains("object"));
        assert!(parse(b"{\"body\":1}").unwrap_err().contains("string"));
        assert!(
            parse(b"{\"body_base64\":\"!!\"}")
                .unwrap_err()
                .contains("base64")
        );
        assert!(parse(b"{\"body\":\"x\",\"properties\":{\"priority\":300}}").is_err());
        assert!(
            parse(b"{\"exchange\":\"x\"}")
                .unwrap_err()
                .contains("missing")
        );
        assert!(
            parse(b"{\"body\":\"x\",\"bogus\":1}")
                .unwrap_err()
                .contains("bogus")
        );
    }

    #[test]
    fn tagged_values_parse() {
        let e = parse(
            br#"{"body":"x","headers":{"b":{"$base64":"AP8="},"t":{"$timestamp":5},"n":{"x":1}}}"#,
        )
        .unwrap();
        let h = e.message.props.headers.unwrap();
        assert_eq!(h["b"], Value::Bytes(vec![0, 255]));
        assert_eq!(h["t"], Value::Timestamp(5));
        assert!(matches!(h["n"], Value::Table(_)));
    }
}
