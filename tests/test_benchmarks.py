"""The benchmark script runs end to end (a smoke run with tiny game counts; no timing is asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_benchmark(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_env_throughput_quick_run_writes_json(tmp_path, capsys):
    pytest.importorskip("textarena")
    pytest.importorskip("pygame")
    bench = load_benchmark("env_throughput")
    out = tmp_path / "throughput.json"
    bench.main(["--quick", "--out", str(out)])
    data = json.loads(out.read_text())
    assert data["quick"] is True
    kinds = {(row["kind"], row["game"]) for row in data["results"]}
    for kind in ("aec", "raw", "text"):
        assert (kind, "tictactoe") in kinds and (kind, "kuhn_poker") in kinds
    for row in data["results"]:
        assert row["redqueen"]["steps_per_s"] > 0
        if "anchor_result" in row:
            assert row["ratio"] == pytest.approx(
                row["redqueen"]["steps_per_s"] / row["anchor_result"]["steps_per_s"]
            )
    printed = capsys.readouterr().out
    assert "ratio" in printed and "tictactoe aec steps/s" in printed
