"""benchmarks/negotiation.py runs end to end (a smoke run with tiny counts; no timing is asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_negotiation_benchmark_quick_run_writes_json_and_plot(tmp_path, capsys):
    pytest.importorskip("textarena")
    pytest.importorskip("matplotlib")
    spec = importlib.util.spec_from_file_location("negotiation_bench", ROOT / "benchmarks" / "negotiation.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "negotiation.json"
    bench.main(["--quick", "--ppo-steps", "0", "--out", str(out)])
    data = json.loads(out.read_text())
    assert data["quick"] is True and data["ppo"] == []
    assert len(data["deal_rates"]) == 4 * 6  # 4 games x 6 pairs of scripted agents
    for row in data["deal_rates"]:
        assert 0.0 <= row["pareto_rate"] <= 1.0 and 0.0 <= row["agreement_rate"] <= 1.0
    kinds = {(row["kind"], row["game"]) for row in data["speed"]}
    assert ("text", "resource_trading") in kinds and ("raw", "deal_or_no_deal") in kinds
    for row in data["speed"]:
        assert row["redqueen"]["steps_per_s"] > 0
        if "ratio" in row:
            assert row["ratio"] == pytest.approx(
                row["redqueen"]["steps_per_s"] / row["anchor_result"]["steps_per_s"]
            )
    assert out.with_suffix(".png").is_file()
    printed = capsys.readouterr().out
    assert "resource_trading text steps/s: redqueen" in printed and "ratio" in printed
