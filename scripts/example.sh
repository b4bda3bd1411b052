#!/usr/bin/env bash
# Run the example suite on the embedded local backend (set-up included): bash scripts/example.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/bootstrap.sh
source "$root/scripts/bootstrap.sh"
cd "$root/example_suite"
python -m pytest "$@"
