#!/usr/bin/env bash
# Create or reuse .venv, install pytest-smooth with its extras, and make sure a Chromium exists.
# Sourced by scripts/test.sh and scripts/example.sh; safe to run again (it reuses what is there).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SMOOTH_VENV:-$root/.venv}"
python="${PYTHON:-}"
if [ -z "$python" ]; then
    for candidate in python3.13 python3.12 python3.11 python3.10 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            python="$candidate"
            break
        fi
    done
fi
if [ -z "$python" ]; then
    echo "bootstrap: Python 3.10 or newer is required" >&2
    exit 2
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "bootstrap: creating virtualenv $venv"
    "$python" -m venv "$venv" || {
        echo "bootstrap: 'python -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
        exit 2
    }
fi
stamp="$venv/.pytest-smooth-installed"
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    echo "bootstrap: installing pytest-smooth[dev,server] into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[dev,server]"
    touch "$stamp"
fi

# A browser: SMOOTH_BROWSER, Playwright's own Chromium, or a system Chromium; else install one.
if ! "$venv/bin/python" -m pytest_smooth.server.browser.discovery >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; fi
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = "0" ] || [ -n "$sudo" ]; }; then
        echo "bootstrap: installing Chromium with apt-get"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null \
            || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium-browser >/dev/null \
            || true
    fi
    if ! "$venv/bin/python" -m pytest_smooth.server.browser.discovery >/dev/null 2>&1; then
        echo "bootstrap: no system Chromium; trying 'playwright install chromium'"
        "$venv/bin/python" -m playwright install chromium || true
    fi
    "$venv/bin/python" -m pytest_smooth.server.browser.discovery
fi
export PATH="$venv/bin:$PATH"
