#!/usr/bin/env python3
"""pika reference client for scripts/bench (not part of rmq).

The tutorials' client, used the way the tutorials use it: a BlockingConnection, publisher
confirms through confirm_delivery() (each publish waits for its confirm: BlockingChannel has
no window), consuming with a prefetch and acks batched with multiple=True.

  pika_peer.py publish URL QUEUE [--lines | --count N --size BYTES] [--confirm]
               [--persistent] [--durable]
  pika_peer.py consume URL QUEUE --count N [--no-ack] [--prefetch N] [--durable]
  pika_peer.py one URL QUEUE BODY
"""

import sys

import pika


def opt(args, name, default):
    if name in args:
        return type(default)(args[args.index(name) + 1])
    return default


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: pika_peer.py publish|consume|one URL QUEUE [options]")
    mode, url, queue, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.queue_declare(queue=queue, durable="--durable" in args)
    n = 0
    if mode == "publish":
        if "--confirm" in args:
            ch.confirm_delivery()
        props = pika.BasicProperties(delivery_mode=2) if "--persistent" in args else None
        if "--lines" in args:
            for line in sys.stdin.buffer:
                if line.endswith(b"\n"):
                    line = line[:-1]
                ch.basic_publish(exchange="", routing_key=queue, body=line, properties=props)
                n += 1
        else:
            body = b"x" * opt(args, "--size", 100)
            for _ in range(opt(args, "--count", 0)):
                ch.basic_publish(exchange="", routing_key=queue, body=body, properties=props)
                n += 1
    elif mode == "consume":
        count = opt(args, "--count", 0)
        no_ack = "--no-ack" in args
        ack_every = opt(args, "--ack-every", 128)
        if not no_ack:
            ch.basic_qos(prefetch_count=opt(args, "--prefetch", 256))
        out = sys.stdout.buffer
        last = None
        for method, _props, body in ch.consume(queue, auto_ack=no_ack):
            out.write(body)
            out.write(b"\n")
            n += 1
            if not no_ack:
                last = method.delivery_tag
                if n % ack_every == 0 or n >= count:
                    out.flush()
                    ch.basic_ack(delivery_tag=last, multiple=True)
                    last = None
            if n >= count:
                break
        out.flush()
        if last is not None:
            ch.basic_ack(delivery_tag=last, multiple=True)
        ch.cancel()
    elif mode == "one":
        ch.confirm_delivery()
        body = (args[0] if args else "hello").encode()
        ch.basic_publish(exchange="", routing_key=queue, body=body)
        n = 1
    else:
        sys.exit(f"unknown mode {mode}")
    conn.close()
    print(f"pika-peer: {n} message(s)", file=sys.stderr)


if __name__ == "__main__":
    main()
