//! A small, fair lapin reference client for `scripts/bench` (not part of rmq).
//!
//! What a competent lapin user would write: publish with a window of outstanding publisher
//! confirms (awaiting the oldest when the window is full), consume with a prefetch and acks
//! batched with `multiple`. Input lines come from stdin like `rmq send --lines`.
//!
//!   lapin-peer publish URL QUEUE [--lines | --count N --size BYTES] [--confirm WINDOW]
//!              [--persistent] [--durable]
//!   lapin-peer consume URL QUEUE --count N [--no-ack] [--prefetch N] [--ack-every N]
//!   lapin-peer one URL QUEUE BODY          (connect, declare, publish one, confirm, close)

use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use std::collections::VecDeque;
use std::io::Write;
use tokio::io::{AsyncBufReadExt, BufReader};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Opts {
    lines: bool,
    count: u64,
    size: usize,
    confirm: usize,
    persistent: bool,
    durable: bool,
    no_ack: bool,
    prefetch: u16,
    ack_every: u64,
}

fn parse(args: &[String]) -> Opts {
    let mut o = Opts {
        lines: false,
        count: 0,
        size: 100,
        confirm: 0,
        persistent: false,
        durable: false,
        no_ack: false,
        prefetch: 256,
        ack_every: 128,
    };
    let mut i = 0;
    while i < args.len() {
        let next = |i: &mut usize| -> String {
            *i += 1;
            args.get(*i).cloned().unwrap_or_default()
        };
        match args[i].as_str() {
            "--lines" => o.lines = true,
            "--count" => o.count = next(&mut i).parse().unwrap_or(0),
            "--size" => o.size = next(&mut i).parse().unwrap_or(100),
            "--confirm" => o.confirm = next(&mut i).parse().unwrap_or(0),
            "--persistent" => o.persistent = true,
            "--durable" => o.durable = true,
            "--no-ack" => o.no_ack = true,
            "--prefetch" => o.prefetch = next(&mut i).parse().unwrap_or(256),
            "--ack-every" => o.ack_every = next(&mut i).parse().unwrap_or(128),
            other => panic!("unknown option {other}"),
        }
        i += 1;
    }
    o
}

async fn declare(ch: &Channel, queue: &str, durable: bool) -> Res<()> {
    ch.queue_declare(
        queue.into(),
        QueueDeclareOptions {
            durable,
            ..QueueDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await?;
    Ok(())
}

async fn publish1(
    ch: &Channel,
    key: &lapin::types::ShortString,
    body: &[u8],
    props: &BasicProperties,
) -> lapin::Result<lapin::PublisherConfirm> {
    ch.basic_publish(
        "".into(),
        key.clone(),
        BasicPublishOptions::default(),
        body,
        props.clone(),
    )
    .await
}

async fn publish(conn: &Connection, queue: &str, o: &Opts) -> Res<u64> {
    let ch = conn.create_channel().await?;
    declare(&ch, queue, o.durable).await?;
    if o.confirm > 0 {
        ch.confirm_select(ConfirmSelectOptions::default()).await?;
    }
    let props = if o.persistent {
        BasicProperties::default().with_delivery_mode(2)
    } else {
        BasicProperties::default()
    };
    let mut window = VecDeque::new();
    let mut sent = 0u64;
    let key: lapin::types::ShortString = queue.into();
    if o.lines {
        let mut rd = BufReader::with_capacity(256 * 1024, tokio::io::stdin());
        let mut buf = Vec::new();
        loop {
            buf.clear();
            if rd.read_until(b'\n', &mut buf).await? == 0 {
                break;
            }
            if buf.last() == Some(&b'\n') {
                buf.pop();
            }
            let c = publish1(&ch, &key, &buf, &props).await?;
            sent += 1;
            if o.confirm > 0 {
                window.push_back(c);
                if window.len() >= o.confirm {
                    let c = window.pop_front().ok_or("empty window")?;
                    if !c.await?.is_ack() {
                        return Err("nack".into());
                    }
                }
            }
        }
    } else {
        let body = vec![b'x'; o.size];
        for _ in 0..o.count {
            let c = publish1(&ch, &key, &body, &props).await?;
            sent += 1;
            if o.confirm > 0 {
                window.push_back(c);
                if window.len() >= o.confirm {
                    let c = window.pop_front().ok_or("empty window")?;
                    if !c.await?.is_ack() {
                        return Err("nack".into());
                    }
                }
            }
        }
    }
    for c in window {
        if !c.await?.is_ack() {
            return Err("nack".into());
        }
    }
    if o.confirm == 0 {
        // No confirms: a round trip so that everything written has reached the broker.
        ch.basic_qos(0, BasicQosOptions::default()).await?;
    }
    ch.close(200, "bye".into()).await?;
    Ok(sent)
}

async fn consume(conn: &Connection, queue: &str, o: &Opts) -> Res<u64> {
    let ch = conn.create_channel().await?;
    declare(&ch, queue, o.durable).await?;
    if !o.no_ack {
        ch.basic_qos(o.prefetch, BasicQosOptions::default()).await?;
    }
    let mut consumer = ch
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions {
                no_ack: o.no_ack,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut got = 0u64;
    let mut last = None;
    while got < o.count {
        let Some(d) = consumer.next().await else {
            break;
        };
        let d = d?;
        out.write_all(&d.data)?;
        out.write_all(b"\n")?;
        got += 1;
        if !o.no_ack {
            if got % o.ack_every == 0 || got == o.count {
                out.flush()?;
                d.ack(BasicAckOptions { multiple: true }).await?;
                last = None;
            } else {
                last = Some(d);
            }
        }
    }
    out.flush()?;
    if let Some(d) = last {
        d.ack(BasicAckOptions { multiple: true }).await?;
    }
    ch.close(200, "bye".into()).await?;
    Ok(got)
}

async fn one(conn: &Connection, queue: &str, body: &str) -> Res<u64> {
    let ch = conn.create_channel().await?;
    declare(&ch, queue, false).await?;
    ch.confirm_select(ConfirmSelectOptions::default()).await?;
    let c = ch
        .basic_publish(
            "".into(),
            queue.into(),
            BasicPublishOptions::default(),
            body.as_bytes(),
            BasicProperties::default(),
        )
        .await?
        .await?;
    if !c.is_ack() {
        return Err("nack".into());
    }
    ch.close(200, "bye".into()).await?;
    Ok(1)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: lapin-peer publish|consume|one URL QUEUE [options]");
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let r: Res<u64> = rt.block_on(async {
        let conn = Connection::connect(&args[1], ConnectionProperties::default()).await?;
        let n = match args[0].as_str() {
            "publish" => publish(&conn, &args[2], &parse(&args[3..])).await?,
            "consume" => consume(&conn, &args[2], &parse(&args[3..])).await?,
            "one" => one(&conn, &args[2], args.get(3).map_or("hello", |s| s)).await?,
            other => return Err(format!("unknown mode {other}").into()),
        };
        conn.close(200, "bye".into()).await?;
        Ok(n)
    });
    match r {
        Ok(n) => eprintln!("lapin-peer: {n} message(s)"),
        Err(e) => {
            eprintln!("lapin-peer: error: {e}");
            std::process::exit(1);
        }
    }
}
