#!/usr/bin/env bash
# The single test command, for developers and CI (.ci/run): installs RabbitMQ when it is
# missing, then runs rustfmt, clippy and the whole test suite. The broker tests boot their
# own nodes (tests/support/broker.rs); a system broker, if any, is left alone.
# Exits non-zero when any step fails (all steps run regardless).
set -uo pipefail
cd "$(dirname "$0")/.."

RABBITMQ_BIN=/usr/lib/rabbitmq/bin
TARGET_DIR=${CARGO_TARGET_DIR:-target}
status=0

step() {
    echo "==> $*" >&2
    if ! "$@"; then
        echo "==> FAILED: $*" >&2
        status=1
    fi
}

# Kill test nodes whose test process is gone (normally none: the harness stops its nodes
# at exit, and a watchdog does if the test process was killed). Only pids whose command
# line names the node's own directory are touched.
stop_leftover_nodes() {
    local dir owner pid
    for dir in "$TARGET_DIR"/tmp/rmq-brokers/*/; do
        [ -d "$dir" ] || continue
        dir=${dir%/}
        owner=$(cat "$dir/owner" 2>/dev/null || true)
        if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
            continue # still owned by a running test process
        fi
        pid=$(cat "$dir/beam.pid" 2>/dev/null || true)
        if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
            tr '\0' ' ' <"/proc/$pid/cmdline" | grep -F -- "$dir/home" >/dev/null; then
            echo "==> killing leftover test node pid $pid ($dir)" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -rf "$dir"
    done
}
trap stop_leftover_nodes EXIT

if [ ! -x "$RABBITMQ_BIN/rabbitmq-server" ]; then
    echo "==> installing rabbitmq-server" >&2
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update || exit 1
    $SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends rabbitmq-server || exit 1
fi
# tmux drives the terminal tests (prompts); they skip without it, so install it when we can.
if ! command -v tmux >/dev/null 2>&1; then
    echo "==> installing tmux (terminal tests)" >&2
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    { $SUDO apt-get update && $SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends tmux; } >&2 || echo "==> no tmux: terminal tests will skip" >&2
fi
if ! compgen -G "/usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins/rabbitmq_management-*" >/dev/null; then
    echo "==> the rabbitmq_management plugin is missing from /usr/lib/rabbitmq/lib" >&2
    exit 1
fi

step cargo fmt --all -- --check
step cargo clippy --all-targets -- -D warnings
results=$(mktemp)
step bash -c "set -o pipefail; timeout --kill-after=30 1500 cargo test --no-fail-fast 2>&1 | tee '$results'"
# One closing line over every test binary (cargo prints one per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$results"
rm -f "$results"

exit $status
