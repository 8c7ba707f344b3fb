"""The Who-Is-the-Spy benchmark runs end to end (a smoke run with a few games; no timing is asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_spy_benchmark_quick_run_writes_json_and_plot(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("spy_scripted", ROOT / "benchmarks" / "spy_scripted.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "spy.json"
    data = bench.main(["--quick", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["quick"] is True and saved["benchmark"] == "spy_scripted"
    assert [r["setting"] for r in saved["settings"]] == list(bench.SETTINGS)
    for row in saved["settings"]:
        assert row["scripted"]["games"] == row["uniform_voters"]["games"] == data["games"]
        assert 0 <= row["scripted"]["caught_rate"] <= 1 and row["engine_decisions_per_s"] > 0
    assert 0 <= saved["spy_win_prediction"]["team_sum"] < saved["spy_win_prediction"]["per_role"] <= 1
    assert out.with_suffix(".png").is_file()
    printed = capsys.readouterr().out
    assert "spy words: caught" in printed and "ratio" in printed and "team sums" in printed
