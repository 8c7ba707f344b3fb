#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the demo: a round-robin of the built-in agents on Kuhn poker and
# TicTacToe, with a results table and the exploitability of the Kuhn agents. Extra args go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec .venv/bin/redqueen demo "$@"
