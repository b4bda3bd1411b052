#!/usr/bin/env bash
# Run pytest-smooth's own tests (set-up included): bash scripts/test.sh [pytest args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/bootstrap.sh
source "$root/scripts/bootstrap.sh"
cd "$root"
python -m pytest -n 2 "$@"
