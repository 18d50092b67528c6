//! Tests of the test harness itself: the nodes it boots, their isolation and restarts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Broker, pct_encode, unique_name};

/// Sends the AMQP 0-9-1 protocol header and checks that the broker answers with a
/// `connection.start` method frame.
fn assert_speaks_amqp(port: u16) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connecting to the AMQP port");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(b"AMQP\x00\x00\x09\x01").unwrap();
    let mut frame = [0u8; 11];
    tcp.read_exact(&mut frame)
        .expect("reading connection.start");
    assert_eq!(frame[0], 1, "method frame expected, got {frame:?}");
    assert_eq!(&frame[7..11], &[0, 10, 0, 10], "connection.start expected");
}

/// Opens an AMQP 0-9-1 connection to `vhost` (PLAIN auth) and closes it again; `Err` with the
/// broker's reply code and text when it refuses.
fn amqp_open(port: u16, user: &str, password: &str, vhost: &str) -> Result<(), String> {
    fn frame(class: u16, method: u16, args: &[u8]) -> Vec<u8> {
        let mut payload = [class.to_be_bytes(), method.to_be_bytes()].concat();
        payload.extend_from_slice(args);
        let mut f = vec![1, 0, 0];
        f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        f.extend_from_slice(&payload);
        f.push(0xce);
        f
    }
    fn shortstr(s: &str) -> Vec<u8> {
        [&[s.len() as u8][..], s.as_bytes()].concat()
    }
    fn read_method(tcp: &mut TcpStream) -> Result<(u16, u16, Vec<u8>), String> {
        let mut head = [0u8; 7];
        tcp.read_exact(&mut head)
            .map_err(|e| format!("connection closed: {e}"))?;
        let size = u32::from_be_bytes([head[3], head[4], head[5], head[6]]) as usize;
        let mut payload = vec![0u8; size + 1];
        tcp.read_exact(&mut payload).map_err(|e| e.to_string())?;
        assert_eq!(head[0], 1, "method frame expected");
        let class = u16::from_be_bytes([payload[0], payload[1]]);
        let method = u16::from_be_bytes([payload[2], payload[3]]);
        Ok((class, method, payload[4..size].to_vec()))
    }
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(b"AMQP\x00\x00\x09\x01").unwrap();
    let (class, method, _) = read_method(&mut tcp)?;
    assert_eq!((class, method), (10, 10), "connection.start");
    let response = format!("\0{user}\0{password}");
    let mut start_ok = 0u32.to_be_bytes().to_vec(); // empty client-properties table
    start_ok.extend(shortstr("PLAIN"));
    start_ok.extend((response.len() as u32).to_be_bytes());
    start_ok.extend(response.as_bytes());
    start_ok.extend(shortstr("en_US"));
    tcp.write_all(&frame(10, 11, &start_ok)).unwrap();
    let (class, method, tune) = read_method(&mut tcp)?;
    assert_eq!((class, method), (10, 30), "connection.tune");
    let mut tune_ok = tune[..6].to_vec(); // channel-max, frame-max as offered
    tune_ok.extend([0, 0]); // no heartbeats
    tcp.write_all(&frame(10, 31, &tune_ok)).unwrap();
    let mut open = shortstr(vhost);
    open.extend([0, 0]); // reserved shortstr, reserved bit
    tcp.write_all(&frame(10, 40, &open)).unwrap();
    match read_method(&mut tcp)? {
        (10, 41, _) => {
            tcp.write_all(&frame(10, 50, &[0, 200, 0, 0, 0, 0, 0]))
                .unwrap();
            let (class, method, _) = read_method(&mut tcp)?;
            assert_eq!((class, method), (10, 51), "connection.close-ok");
            Ok(())
        }
        (10, 50, args) => {
            let code = u16::from_be_bytes([args[0], args[1]]);
            let text = String::from_utf8_lossy(&args[3..3 + args[2] as usize]).into_owned();
            Err(format!("{code} {text}"))
        }
        other => panic!("unexpected answer to connection.open: {other:?}"),
    }
}

#[test]
fn shared_broker_answers_amqp_and_management_api() {
    let broker = Broker::shared();
    assert_speaks_amqp(broker.amqp_port());
    let overview = broker.api_get("overview");
    assert!(overview["rabbitmq_version"].is_string(), "{overview}");
    assert_eq!(overview["node"], broker.node_name());
    assert!(
        broker
            .amqp_url("/")
            .ends_with(&format!(":{}/%2f", broker.amqp_port())),
        "{}",
        broker.amqp_url("/")
    );
    assert!(
        broker
            .api_url()
            .ends_with(&format!(":{}", broker.api_port()))
    );
    if !broker.is_external() {
        assert!(broker.node_name().starts_with("rmqtest-"));
        assert_eq!(
            broker.amqp_url("a/b c"),
            format!(
                "amqp://guest:guest@127.0.0.1:{}/a%2fb%20c",
                broker.amqp_port()
            )
        );
        assert!(broker.amqp_port() < 32768 && broker.api_port() < 32768);
        let vhosts = broker.rabbitmqctl(&["-q", "list_vhosts", "name"]);
        assert!(vhosts.status.success(), "{vhosts:?}");
    }
}

#[test]
fn vhost_is_created_fresh_and_isolated() {
    let broker = Broker::shared();
    let a = broker.vhost(&unique_name("harness-a"));
    let b = broker.vhost(&unique_name("harness-b"));
    let (va, vb) = (pct_encode(&a), pct_encode(&b));
    let perms = broker.api_get(&format!("permissions/{va}/guest"));
    assert_eq!(perms["configure"], ".*");

    broker.api_put(&format!("queues/{va}/q1"), &json!({"durable": true}));
    assert!(broker.queue_info(&a, "q1").is_some());
    assert!(
        broker.queue_info(&b, "q1").is_none(),
        "vhosts must not share queues"
    );

    let published = broker.api_post(
        &format!("exchanges/{va}/amq.default/publish"),
        &json!({"properties": {}, "routing_key": "q1", "payload": "hi", "payload_encoding": "string"}),
    );
    assert_eq!(published["routed"], true);
    // rabbitmqctl counts are immediate, no stats lag
    assert_eq!(broker.queue_messages(&a, "q1"), 1);

    // asking for the same vhost again wipes it
    assert_eq!(broker.vhost(&a), a);
    assert!(broker.queue_info(&a, "q1").is_none());
    assert!(broker.api_delete(&format!("vhosts/{va}")));
    assert!(broker.api_delete(&format!("vhosts/{vb}")));
    assert!(!broker.api_delete(&format!("vhosts/{vb}")));
}

#[test]
fn fresh_vhost_accepts_amqp_connections_at_once() {
    let broker = Broker::shared();
    let (user, password) = broker.credentials();
    for _ in 0..3 {
        let vhost = broker.vhost(&unique_name("harness-open"));
        amqp_open(broker.amqp_port(), user, password, &vhost).expect("opening the fresh vhost");
    }
    let missing = amqp_open(
        broker.amqp_port(),
        user,
        password,
        &unique_name("no-such-vhost"),
    )
    .expect_err("a missing vhost must be refused");
    assert!(missing.starts_with("530 "), "{missing}");
}

#[test]
fn dedicated_broker_restarts_with_its_durable_queue_and_messages() {
    let Some(broker) = Broker::dedicated() else {
        return;
    };
    let shared = Broker::shared();
    assert_ne!(broker.node_name(), shared.node_name());
    assert_ne!(broker.amqp_port(), shared.amqp_port());

    let vhost = broker.vhost("restart");
    let v = pct_encode(&vhost);
    broker.api_put(&format!("queues/{v}/durable-q"), &json!({"durable": true}));
    broker.api_put(
        &format!("queues/{v}/transient-q"),
        &json!({"durable": false}),
    );
    broker.api_post(
        &format!("exchanges/{v}/amq.default/publish"),
        &json!({"properties": {"delivery_mode": 2}, "routing_key": "durable-q",
                "payload": "kept", "payload_encoding": "string"}),
    );
    assert_eq!(broker.queue_messages(&vhost, "durable-q"), 1);
    let (amqp, api, pid) = (broker.amqp_port(), broker.api_port(), broker.pid());

    let t = Instant::now();
    broker.stop();
    let stopped = t.elapsed();
    assert_eq!(broker.pid(), None);
    assert!(
        TcpStream::connect(("127.0.0.1", amqp)).is_err(),
        "AMQP port still open"
    );
    broker.start();
    eprintln!(
        "[rmq-test] stop took {:.1}s, stop+start {:.1}s",
        stopped.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );

    assert_eq!((broker.amqp_port(), broker.api_port()), (amqp, api));
    assert_ne!(broker.pid(), pid);
    assert_speaks_amqp(amqp);
    let queue = broker
        .queue_info(&vhost, "durable-q")
        .expect("durable queue lost");
    assert_eq!(queue["durable"], true);
    assert!(broker.queue_info(&vhost, "transient-q").is_none());
    assert_eq!(broker.queue_messages(&vhost, "durable-q"), 1);

    // a crash (SIGKILL) keeps durable definitions too
    broker.kill();
    broker.restart();
    assert!(broker.queue_info(&vhost, "durable-q").is_some());

    let pid = broker.pid().expect("running");
    drop(broker);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "drop must kill the node"
    );
}
