#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the demo: a round-robin of the built-in agents on Kuhn poker and
# TicTacToe, with a results table and the exploitability of the Kuhn agents; the results are also
# written to runs/demo/ (results.json, results.png). Extra args go to the demo (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec .venv/bin/redqueen demo --json runs/demo/results.json --plot runs/demo/results.png "$@"
