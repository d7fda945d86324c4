#!/usr/bin/env bash
# ruff check, ruff format --check and mypy --strict: all three run, whatever fails; the exit
# status is non-zero if any failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash dev/bootstrap.sh --python-only
bin="$root/.venv/bin"

failed=()
"$bin/ruff" check . || failed+=("ruff check")
"$bin/ruff" format --check . || failed+=("ruff format --check")
"$bin/mypy" --strict ticketland_vibe || failed+=("mypy --strict ticketland_vibe")

if ((${#failed[@]})); then
    printf 'lint: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
