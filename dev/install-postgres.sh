#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries that the test suite runs (tests/harness/postgres.py)
# are on this machine: when no initdb is found under /usr/lib/postgresql/*/bin, installs
# Debian's `postgresql` package with apt-get, without starting the system service.
# Quick when the binaries are there: nothing is installed and apt-get is not run.
# Needs root (or password-less sudo) only when it has to install.
set -euo pipefail

found() {
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

if found; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-postgres: no initdb under /usr/lib/postgresql/*/bin and no apt-get:" \
        "install the PostgreSQL server (14 or later) by hand" >&2
    exit 1
fi

if ((EUID != 0)) && ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
    echo "install-postgres: installing the postgresql package needs root" \
        "(or password-less sudo)" >&2
    exit 1
fi
as_root() {
    if ((EUID == 0)); then
        "$@"
    else
        sudo -n "$@"
    fi
}

# Debian's maintainer scripts ask invoke-rc.d whether they may start a service; exit code 101
# from policy-rc.d means "no". Only ours is removed afterwards.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e "$policy" ]]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' >'$policy' && chmod 755 '$policy'"
    made_policy=1
fi
cleanup() {
    if ((made_policy)); then
        as_root rm -f "$policy"
    fi
}
trap cleanup EXIT

echo "install-postgres: installing Debian's postgresql package (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp -t install-postgres.XXXXXX.log)"
if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1 ||
    ! as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends postgresql >>"$log" 2>&1; then
    echo "install-postgres: apt-get failed; the end of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
fi

# The package may have started its default cluster anyway (a machine without policy-rc.d
# support); the tests run their own server, so stop it. Best effort.
if command -v pg_lsclusters >/dev/null 2>&1; then
    while read -r version name _rest; do
        as_root pg_ctlcluster "$version" "$name" stop >/dev/null 2>&1 || true
    done < <(pg_lsclusters --no-header 2>/dev/null || true)
fi

if ! found; then
    echo "install-postgres: the postgresql package is installed but no initdb is under" \
        "/usr/lib/postgresql/*/bin" >&2
    exit 1
fi
echo "install-postgres: $(compgen -G "/usr/lib/postgresql/*/bin/initdb" | sort -V | tail -n 1)" >&2
rm -f "$log"
