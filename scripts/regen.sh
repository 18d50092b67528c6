#!/usr/bin/env bash
# Regenerate the shipped completion scripts and man page from the current binary, and the
# --help snapshots of the offline tests (tests/offline/snapshots/help/). Review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
# .cargo/config.toml builds for the host triple: binaries are under target/<triple>/.
RMQ=target/$(rustc -vV | sed -n 's/^host: //p')/debug/rmq
$RMQ completions bash > completions/rmq.bash
$RMQ completions zsh > completions/_rmq
$RMQ completions fish > completions/rmq.fish
$RMQ completions elvish > completions/rmq.elv
$RMQ completions powershell > completions/_rmq.ps1
$RMQ man > man/rmq.1
SNAPSHOTS=overwrite cargo test --quiet --test offline help
echo "regenerated completions/, man/ and tests/offline/snapshots/help/" >&2
