#!/usr/bin/env bash
# Set up (scripts/setup.sh), lint, and run the test suite. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 SDL_VIDEODRIVER=dummy PYGAME_HIDE_SUPPORT_PROMPT=1
# setup.sh installed the llm extra: the real-model tests (tests/test_llm_gemma.py) must run, not skip
export REDQUEEN_REQUIRE_LLM=1
echo "== ruff"
.venv/bin/ruff check redqueen tests benchmarks
.venv/bin/ruff format --check redqueen tests benchmarks
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
