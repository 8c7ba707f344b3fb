#!/usr/bin/env bash
# Set up redqueen in ./.venv: the CPU build of torch first, then the project with its dev extras.
# Idempotent: a second run with an unchanged pyproject.toml only checks the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "redqueen needs Python >= 3.11; '$PYTHON' is $("$PYTHON" --version 2>&1 || echo missing)." >&2
  echo "Set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi

VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

stamp="$VENV/.redqueen-installed"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

# torch: the CPU wheel of 2.13.0. A bare `torch` requirement, with no torch installed, pulls a CUDA
# build of several GB; installing this one first makes the project's `torch>=2.3` a no-op.
if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  echo "== installing torch==2.13.0 (CPU)"
  "${PIP[@]}" install -q torch==2.13.0
fi
echo "== installing redqueen[dev] (llama-cpp-python compiles from source the first time: several minutes)"
# llama-cpp-python: no multimodal (llava/mtmd) library, which redqueen does not use and which is a large
# part of the compile; pip caches the built wheel, so later set-ups take seconds
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
"${PIP[@]}" install -q -e ".[dev]"
"$VENV/bin/python" -c 'import torch, redqueen; print(f"redqueen {redqueen.__version__}, torch {torch.__version__}")'
echo "$want" > "$stamp"
