//! Conversions between our types (message.rs) and amiquip / amq-protocol types.
//! Pure functions: no I/O, no error mapping (errors.rs).

use super::message::{
    AckToken, ConfirmEvent, Delivery, ExchangeKind, Message, Properties, QueueInfo, Returned,
    Table, Value,
};
use amiquip::{AmqpProperties, AmqpValue, Confirm, ExchangeType, FieldTable};

/// The amiquip name of an exchange type.
pub(super) fn exchange_type(kind: ExchangeKind) -> ExchangeType {
    match kind {
        ExchangeKind::Fanout => ExchangeType::Fanout,
        ExchangeKind::Direct => ExchangeType::Direct,
        ExchangeKind::Topic => ExchangeType::Topic,
        ExchangeKind::Headers => ExchangeType::Headers,
    }
}

pub(super) fn queue_info(q: &amiquip::Queue) -> QueueInfo {
    QueueInfo {
        name: q.name().to_string(),
        messages: q.declared_message_count().unwrap_or(0),
        consumers: q.declared_consumer_count().unwrap_or(0),
    }
}

pub(super) fn to_returned(r: amiquip::Return) -> Returned {
    let props = from_amqp_props(&r.properties);
    Returned {
        reply_code: r.reply_code,
        reply_text: r.reply_text,
        exchange: r.exchange,
        routing_key: r.routing_key,
        message_id: props.message_id.clone(),
        correlation_id: props.correlation_id.clone(),
        message: Message {
            body: r.content,
            props,
        },
    }
}

pub(super) fn confirm_event(c: Confirm) -> ConfirmEvent {
    match c {
        Confirm::Ack(p) => ConfirmEvent::Ack {
            tag: p.delivery_tag,
            multiple: p.multiple,
        },
        Confirm::Nack(p) => ConfirmEvent::Nack {
            tag: p.delivery_tag,
            multiple: p.multiple,
        },
    }
}

pub(super) fn from_delivery(mut d: amiquip::Delivery) -> Delivery {
    let body = std::mem::take(&mut d.body);
    let props = from_amqp_props(&d.properties);
    d.properties = AmqpProperties::default();
    Delivery {
        exchange: std::mem::take(&mut d.exchange),
        routing_key: std::mem::take(&mut d.routing_key),
        redelivered: d.redelivered,
        message: Message { body, props },
        token: AckToken(d),
    }
}

pub(super) fn to_field_table(t: &Table) -> FieldTable {
    t.iter()
        .map(|(k, v)| (k.clone(), to_amqp_value(v)))
        .collect()
}

pub(super) fn to_amqp_value(v: &Value) -> AmqpValue {
    match v {
        Value::Bool(b) => AmqpValue::Boolean(*b),
        Value::Int(i) => AmqpValue::LongLongInt(*i),
        Value::Float(f) => AmqpValue::Double(*f),
        Value::Decimal { scale, value } => {
            AmqpValue::DecimalValue(amq_protocol_types_decimal(*scale, *value))
        }
        Value::Str(s) => AmqpValue::LongString(s.clone()),
        Value::Bytes(b) => AmqpValue::ByteArray(b.clone()),
        Value::Array(a) => AmqpValue::FieldArray(a.iter().map(to_amqp_value).collect()),
        Value::Table(t) => AmqpValue::FieldTable(to_field_table(t)),
        Value::Timestamp(t) => AmqpValue::Timestamp(*t),
        Value::Void => AmqpValue::Void,
    }
}

fn amq_protocol_types_decimal(scale: u8, value: u32) -> amq_protocol_types::DecimalValue {
    amq_protocol_types::DecimalValue { scale, value }
}

pub(super) fn from_field_table(t: &FieldTable) -> Table {
    t.iter()
        .map(|(k, v)| (k.clone(), from_amqp_value(v)))
        .collect()
}

pub(super) fn from_amqp_value(v: &AmqpValue) -> Value {
    match v {
        AmqpValue::Boolean(b) => Value::Bool(*b),
        AmqpValue::ShortShortInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::ShortShortUInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::ShortInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::ShortUInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::LongInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::LongUInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::LongLongInt(i) => Value::Int(*i),
        AmqpValue::Float(f) => Value::Float(f64::from(*f)),
        AmqpValue::Double(f) => Value::Float(*f),
        AmqpValue::DecimalValue(d) => Value::Decimal {
            scale: d.scale,
            value: d.value,
        },
        AmqpValue::LongString(s) => Value::Str(s.clone()),
        AmqpValue::FieldArray(a) => Value::Array(a.iter().map(from_amqp_value).collect()),
        AmqpValue::Timestamp(t) => Value::Timestamp(*t),
        AmqpValue::FieldTable(t) => Value::Table(from_field_table(t)),
        AmqpValue::ByteArray(b) => Value::Bytes(b.clone()),
        AmqpValue::Void => Value::Void,
    }
}

pub(super) fn to_amqp_props(p: &Properties) -> AmqpProperties {
    let mut a = AmqpProperties::default();
    macro_rules! set {
        ($field:ident, $with:ident) => {
            if let Some(v) = &p.$field {
                a = a.$with(v.clone());
            }
        };
    }
    set!(content_type, with_content_type);
    set!(content_encoding, with_content_encoding);
    set!(delivery_mode, with_delivery_mode);
    set!(priority, with_priority);
    set!(correlation_id, with_correlation_id);
    set!(reply_to, with_reply_to);
    set!(expiration, with_expiration);
    set!(message_id, with_message_id);
    set!(timestamp, with_timestamp);
    set!(kind, with_type_);
    set!(user_id, with_user_id);
    set!(app_id, with_app_id);
    set!(cluster_id, with_cluster_id);
    if let Some(h) = &p.headers {
        a = a.with_headers(to_field_table(h));
    }
    a
}

pub(super) fn from_amqp_props(a: &AmqpProperties) -> Properties {
    Properties {
        content_type: a.content_type().clone(),
        content_encoding: a.content_encoding().clone(),
        headers: a.headers().as_ref().map(from_field_table),
        delivery_mode: *a.delivery_mode(),
        priority: *a.priority(),
        correlation_id: a.correlation_id().clone(),
        reply_to: a.reply_to().clone(),
        expiration: a.expiration().clone(),
        message_id: a.message_id().clone(),
        timestamp: *a.timestamp(),
        kind: a.type_().clone(),
        user_id: a.user_id().clone(),
        app_id: a.app_id().clone(),
        cluster_id: a.cluster_id().clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_round_trip_through_amiquip() {
        let mut headers = Table::new();
        headers.insert("a".into(), Value::Int(-5));
        headers.insert("b".into(), Value::Bytes(vec![0, 255]));
        headers.insert(
            "c".into(),
            Value::Array(vec![Value::Str("x".into()), Value::Bool(true)]),
        );
        let p = Properties {
            content_type: Some("text/plain".into()),
            headers: Some(headers),
            delivery_mode: Some(2),
            priority: Some(9),
            timestamp: Some(1_700_000_000),
            kind: Some("t".into()),
            ..Properties::default()
        };
        assert_eq!(from_amqp_props(&to_amqp_props(&p)), p);
    }
}
