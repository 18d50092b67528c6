#!/usr/bin/env bash
# The single test command, for developers and CI (.ci/run): installs RabbitMQ and what the
# broker tests need (tmux, python3-pika, openssl, graphviz) when missing, then runs rustfmt, clippy
# and the whole test suite with RMQ_TEST_STRICT=1 (no test may skip). The broker tests boot
# their own nodes (tests/support/); a system broker, if any, is left alone.
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

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
# apt-get install PACKAGE... (apt-get update once, first).
apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then
        $SUDO apt-get update || return 1
        apt_updated=1
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}
has_pika() {
    # tests/broker/call.rs tries python3 from PATH, then the system's /usr/bin/python3
    python3 -c 'import pika' >/dev/null 2>&1 || /usr/bin/python3 -c 'import pika' >/dev/null 2>&1
}

if [ ! -x "$RABBITMQ_BIN/rabbitmq-server" ]; then
    echo "==> installing rabbitmq-server" >&2
    apt_install rabbitmq-server || exit 1
fi
# What the broker tests need beyond RabbitMQ; without it they print `SKIPPED: <test>: <why>`,
# which RMQ_TEST_STRICT=1 (set below) turns into a failure:
#   tmux          the terminal tests (tests/broker/admin_tty.rs, interactive.rs)
#   python3-pika  the pika tutorial RPC interop tests (tests/broker/call.rs)
#   openssl       the certificates of the TLS test (tests/support/tls.rs)
#   graphviz      `dot`, which must accept `rmq tree --dot` (tests/broker/tree.rs)
if ! command -v tmux >/dev/null 2>&1; then
    echo "==> installing tmux (terminal tests)" >&2
    apt_install tmux >&2 || echo "==> no tmux: the terminal tests will fail (strict)" >&2
fi
if ! has_pika; then
    echo "==> installing python3-pika (RPC interop tests)" >&2
    apt_install python3 python3-pika >&2 || echo "==> no pika: the pika tests will fail (strict)" >&2
fi
if ! command -v openssl >/dev/null 2>&1; then
    echo "==> installing openssl (TLS test)" >&2
    apt_install openssl >&2 || echo "==> no openssl: the TLS test will fail (strict)" >&2
fi
if ! command -v dot >/dev/null 2>&1; then
    echo "==> installing graphviz (rmq tree --dot test)" >&2
    apt_install graphviz >&2 || echo "==> no graphviz: the tree --dot test will fail (strict)" >&2
fi
if ! compgen -G "/usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins/rabbitmq_management-*" >/dev/null; then
    echo "==> the rabbitmq_management plugin is missing from /usr/lib/rabbitmq/lib" >&2
    exit 1
fi

step cargo fmt --all -- --check
step cargo clippy --all-targets -- -D warnings
results=$(mktemp)
# Strict: a test that cannot run what it is meant to fails instead of skipping
# (tests/support/mod.rs `skip`). RMQ_TEST_STRICT=0 scripts/test.sh allows skips.
step env RMQ_TEST_STRICT="${RMQ_TEST_STRICT:-1}" \
    bash -c "set -o pipefail; timeout --kill-after=30 1500 cargo test --no-fail-fast 2>&1 | tee '$results'"
# One closing line over every test binary (cargo prints one per binary), with the number
# of `SKIPPED:` lines (tests that ran nothing; only possible with RMQ_TEST_STRICT=0).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     /^SKIPPED: / { s++ }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$results"
rm -f "$results"

exit $status
