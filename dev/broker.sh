#!/usr/bin/env bash
# A broker by hand: the test suite's Kafka broker in the foreground until Ctrl-C (or SIGTERM).
# Prints the PLAINTEXT and SASL_SSL bootstrap addresses, the SASL user, password and CA file.
# Options: --port N (fixed PLAINTEXT port), --work-dir DIR (default .cache/kafka-broker).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash dev/bootstrap.sh --python-only
bash dev/kafka-jars.sh
exec "$root/.venv/bin/python" -m tests.harness.broker "$@"
