#!/usr/bin/env bash
# Quick start: build rmq, make sure a RabbitMQ broker answers, and run tutorial 1
# (hello world) through it. Uses $RMQ_URL if set, else amqp://guest:guest@localhost:5672/%2f;
# when nothing answers there, installs rabbitmq-server if missing and boots a private node
# with scripts/test-broker.sh (ports 21672/21673), leaving any system broker alone.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> building rmq (release)" >&2
cargo build --release --quiet
# .cargo/config.toml builds for the host triple: binaries are under target/<triple>/.
RMQ=$PWD/target/$(rustc -vV | sed -n 's/^host: //p')/release/rmq

answers() { "$RMQ" -q --connect-timeout 3 peek -Q amq.rabbitmq.quickstart-probe >/dev/null 2>&1 || [ $? -eq 5 ]; }

if ! answers; then
    echo "==> no broker answers at ${RMQ_URL:-localhost:5672}; starting a local one" >&2
    if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
        SUDO=
        [ "$(id -u)" -eq 0 ] || SUDO=sudo
        $SUDO apt-get update
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server
    fi
    eval "$(scripts/test-broker.sh start)"
    echo "==> broker up: export RMQ_URL=$RMQ_URL RMQ_API_URL=$RMQ_API_URL to keep using it" >&2
fi

echo "==> tutorial 1: rmq send -Q hello 'Hello World!'; rmq receive -Q hello -n 1" >&2
"$RMQ" send -Q hello 'Hello World!'
"$RMQ" receive -Q hello -n 1
