#!/usr/bin/env bash
# The demo: bootstrap, then `ticketland-vibe demo` with the arguments given here, e.g.
#   bash dev/demo.sh --bootstrap-servers 127.0.0.1:PORT   (a broker from `make broker`)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash dev/bootstrap.sh --python-only
exec "$root/.venv/bin/ticketland-vibe" demo "$@"
