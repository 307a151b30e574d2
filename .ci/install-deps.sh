#!/usr/bin/env bash
# System packages the test suite needs on a fresh Debian machine (CI runs as
# root; locally, run it with sudo). Idempotent: packages already installed are
# left alone, and apt runs only when something is missing.
#   docker-compose   validates docker-compose.yml (tests/project/test_compose.py)
#   rabbitmq-server  broker for the messaging integration tests
#   util-linux       setsid and flock for collector/scripts/*.sh
#   chromium         headless rendering of the HTML trace waterfall (tests/cli)
#   wrk              optional HTTP load generator for the benchmarks
# Go (>= 1.26, for `make stack-build`) and python3 are expected on the machine.
set -euo pipefail

REQUIRED=(docker-compose rabbitmq-server util-linux ca-certificates chromium)
OPTIONAL=(wrk)

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    SUDO=(sudo)
fi

missing() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || echo "$pkg"
    done
}

mapfile -t need < <(missing "${REQUIRED[@]}")
mapfile -t want < <(missing "${OPTIONAL[@]}")

if ((${#need[@]} + ${#want[@]} == 0)); then
    echo "install-deps: system packages already installed"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" apt-get -qq -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)

echo "install-deps: apt-get update"
"${APT[@]}" update >/dev/null

if ((${#need[@]})); then
    echo "install-deps: installing ${need[*]}"
    "${APT[@]}" install -y --no-install-recommends "${need[@]}" >/dev/null
fi
if ((${#want[@]})); then
    echo "install-deps: installing optional ${want[*]}"
    "${APT[@]}" install -y --no-install-recommends "${want[@]}" >/dev/null \
        || echo "install-deps: optional ${want[*]} not installed (benchmarks fall back)"
fi
echo "install-deps: done"
