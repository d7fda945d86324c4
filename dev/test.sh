#!/usr/bin/env bash
# Everything CI runs: bootstrap, pytest (arguments are passed to it), then ruff check,
# ruff format --check and mypy --strict. Every step runs even if an earlier one failed; the
# exit status is non-zero if any failed. pytest collecting no tests (exit 5) is a failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash dev/bootstrap.sh
bin="$root/.venv/bin"

failed=()
pytest_status=0
"$bin/pytest" "$@" || pytest_status=$?
if ((pytest_status == 5)); then
    echo "test.sh: pytest collected no tests" >&2
    failed+=("pytest (no tests collected)")
elif ((pytest_status != 0)); then
    failed+=("pytest (exit $pytest_status)")
fi
"$bin/ruff" check . || failed+=("ruff check")
"$bin/ruff" format --check . || failed+=("ruff format --check")
"$bin/mypy" --strict ticketland_vibe || failed+=("mypy --strict ticketland_vibe")

if ((${#failed[@]})); then
    printf 'test.sh: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "test.sh: pytest, ruff check, ruff format --check and mypy all passed"
