#!/usr/bin/env bash
# Makes the development environment from a fresh clone: .venv with the package installed
# editable with its dev extras, the test broker's jars in .cache/kafka-jars/ and PostgreSQL's
# server binaries (dev/install-postgres.sh); with --python-only, the virtualenv alone.
# Quick when nothing changed: pip runs only when pyproject.toml differs from the last install,
# Maven only when tests/kafka/pom.xml differs from the last resolution.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv"
export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1

if [[ ! -x "$venv/bin/python" ]]; then
    python="$(command -v python3.11 || command -v python3 || true)"
    if [[ -z "$python" ]]; then
        echo "bootstrap: no python3.11 or python3 on PATH" >&2
        exit 1
    fi
    echo "bootstrap: creating .venv with $("$python" --version)" >&2
    "$python" -m venv "$venv"
fi

stamp="$venv/.ticketland-vibe-install.sha256"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
installed() {
    [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] &&
        "$venv/bin/python" -c 'import importlib.metadata as m; m.version("ticketland-vibe")' \
            >/dev/null 2>&1
}
if ! installed; then
    echo "bootstrap: installing ticketland-vibe (editable) with .[dev] into .venv" >&2
    log="$venv/pip-install.log"
    if ! "$venv/bin/python" -m pip install -q -e ".[dev]" >"$log" 2>&1; then
        echo "bootstrap: pip install failed; the end of $log:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
    echo "$want" >"$stamp"
fi

# The demo needs only the package: --python-only skips the test services' set-up.
if [[ "${1:-}" != "--python-only" ]]; then
    bash "$root/dev/kafka-jars.sh"
    bash "$root/dev/install-postgres.sh"
fi
