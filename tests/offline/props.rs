//! Property tests of the input parsers: the broker URL (`endpoint`), `k=v` pairs (`kv`) and
//! NDJSON envelopes (`envelope`). None may panic on any input, and what they write they
//! read back unchanged.

use proptest::prelude::*;
use rmq::amqp::{Message, Properties, Table, Value};
use rmq::endpoint::{Endpoint, encode_vhost};
use rmq::{envelope, kv};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Percent-encodes every byte but unreserved ones (for user names and passwords).
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,20}(\\.[a-z0-9-]{1,10}){0,3}",
        (0u8..=255, 0u8..=255, 0u8..=255, 0u8..=255)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        Just("::1".to_string()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    // Header names: any text without '=' (the separator), not starting with '$' (tags).
    "[^=$][^=]{0,30}"
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-1e300f64..1e300).prop_map(|f| Value::Float(if f.fract() == 0.0 { f + 0.5 } else { f })),
        ".{0,20}".prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(Value::Bytes),
        (0u64..u64::from(u32::MAX)).prop_map(Value::Timestamp),
        (any::<u8>(), any::<u32>()).prop_map(|(scale, value)| Value::Decimal { scale, value }),
        Just(Value::Void),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key(), inner, 0..4).prop_map(Value::Table),
        ]
    })
}

fn short_opt() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(".{0,30}")
}

fn message() -> impl Strategy<Value = Message> {
    (
        proptest::collection::vec(any::<u8>(), 0..64),
        (
            short_opt(),
            short_opt(),
            short_opt(),
            short_opt(),
            short_opt(),
        ),
        (
            proptest::option::of(1u8..=2),
            proptest::option::of(any::<u8>()),
            proptest::option::of(any::<u64>().prop_map(|t| t >> 1)),
        ),
        proptest::option::of(proptest::collection::btree_map(key(), value(), 0..5)),
    )
        .prop_map(
            |(body, (ct, ce, cid, rt, mid), (dm, prio, ts), headers): (_, _, _, Option<Table>)| {
                Message {
                    body,
                    props: Properties {
                        content_type: ct,
                        content_encoding: ce,
                        correlation_id: cid,
                        reply_to: rt,
                        message_id: mid,
                        delivery_mode: dm,
                        priority: prio,
                        timestamp: ts,
                        headers,
                        ..Properties::default()
                    },
                }
            },
        )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn url_parser_never_panics(s in ".{0,80}") {
        let _ = Endpoint::parse(&s);
    }

    #[test]
    fn url_parser_never_panics_on_url_shapes(
        scheme in "(amqp|amqps|AMQP|http|)",
        rest in "[a-z:@/%?&=\\[\\]0-9.]{0,60}",
    ) {
        let _ = Endpoint::parse(&format!("{scheme}://{rest}"));
    }

    #[test]
    fn url_parts_round_trip(
        tls in any::<bool>(),
        user in ".{1,20}",
        password in ".{0,20}",
        host in host(),
        port in 1u16..,
        vhost in ".{1,30}",
        heartbeat in proptest::option::of(0u16..),
    ) {
        let host_part = if host.contains(':') { format!("[{host}]") } else { host.clone() };
        let mut url = format!(
            "{}://{}:{}@{host_part}:{port}/{}",
            if tls { "amqps" } else { "amqp" },
            pct(&user),
            pct(&password),
            encode_vhost(&vhost),
        );
        if let Some(h) = heartbeat {
            url += &format!("?heartbeat={h}");
        }
        let ep = Endpoint::parse(&url).unwrap();
        prop_assert_eq!(ep.tls, tls);
        prop_assert_eq!(&ep.user, &user);
        prop_assert_eq!(&ep.password, &password);
        prop_assert_eq!(&ep.host, &host);
        prop_assert_eq!(ep.port, port);
        prop_assert_eq!(&ep.vhost, &vhost);
        prop_assert_eq!(ep.heartbeat, heartbeat.unwrap_or(rmq::endpoint::DEFAULT_HEARTBEAT));
        // The redacted form parses back to the same broker, and never shows the password.
        let again = Endpoint::parse(&ep.redacted()).unwrap();
        prop_assert_eq!((&again.host, again.port, &again.vhost), (&ep.host, ep.port, &ep.vhost));
        // (Unless the password is also spelled out in the user, host or vhost.)
        let shown_elsewhere = [pct(&user), host.clone(), encode_vhost(&vhost), vhost.clone()]
            .iter()
            .any(|part| part.contains(&pct(&password)) || part.contains(&password));
        if password.len() > 3 && !shown_elsewhere {
            prop_assert!(!ep.redacted().contains(&pct(&password)));
        }
    }

    #[test]
    fn url_errors_never_show_the_password(rest in "[a-z:/%?=0-9]{0,30}") {
        let url = format!("amqp://user:Zq9Secret@{rest}");
        if let Err(e) = Endpoint::parse(&url) {
            prop_assert!(!e.to_string().contains("Zq9Secret"), "{}", e);
        }
    }

    #[test]
    fn kv_parser_never_panics(s in ".{0,300}") {
        let _ = kv::parse_kv(&s);
    }

    #[test]
    fn kv_round_trips(k in key(), v in ".{0,40}") {
        let (pk, pv) = kv::parse_kv(&format!("{k}={v}")).unwrap();
        prop_assert_eq!(pk, k);
        prop_assert_eq!(pv, kv::typed(&v));
        // Typed values keep their text form.
        let back = match kv::typed(&v) {
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Str(s) => s,
            other => panic!("unexpected {other:?}"),
        };
        prop_assert_eq!(back.parse::<i64>().ok(), v.parse::<i64>().ok());
    }

    #[test]
    fn envelope_parser_never_panics_on_bytes(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = envelope::parse(&b);
    }

    #[test]
    fn envelope_parser_never_panics_on_json(
        s in "\\{(\"(body|body_base64|exchange|routing_key|properties|headers|x)\":(\"[a-zA-Z0-9+/=]{0,8}\"|[0-9-]{1,4}|null|true|\\{\\}|\\[\\]|\\{\"[a-z_$]{1,10}\":[0-9\"a-z{}]{0,6}\\}),?){0,5}\\}",
    ) {
        let _ = envelope::parse(s.as_bytes());
    }

    #[test]
    fn envelope_round_trips(msg in message(), exchange in ".{0,20}", key in ".{0,20}") {
        let json = envelope::message_to_json(&exchange, &key, false, &msg).to_string();
        let env = envelope::parse(json.as_bytes()).unwrap();
        prop_assert_eq!(env.exchange.as_deref(), Some(exchange.as_str()));
        prop_assert_eq!(env.routing_key.as_deref(), Some(key.as_str()));
        prop_assert_eq!(env.message, msg);
    }
}
