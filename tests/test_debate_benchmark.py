"""benchmarks/debate_digits.py runs end to end (a smoke run on 3 images; no timing is asserted)."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_debate_digits_quick_run_writes_table_json_and_plot(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("debate_digits", ROOT / "benchmarks" / "debate_digits.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "debate.json"
    data = bench.main(["--quick", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["quick"] is True and saved["images"] == 3 and saved == json.loads(json.dumps(data))
    settings = [(r["k"], r["debater"], r["precommit"]) for r in saved["results"]]
    assert settings == [
        (4, "minimax", True),
        (4, "minimax", False),
        (4, "mcts10", True),
        (4, "greedy", True),
        (6, "mcts10", True),
        (6, "greedy", True),
    ]
    for row in saved["results"]:
        assert row["mean"] == (row["honest_first"] + row["liar_first"]) / 2
        assert len(row["honest_first_wins"]) == 3 and 0 <= row["judge_alone"] <= 1
    for k in ("4", "6"):
        assert 0.4 < saved["judges"][k]["accuracy_all_test_images"] < 0.7
    assert out.with_suffix(".png").stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "debate k=4 judge alone: redqueen" in printed and "ratio" in printed and "liar first" in printed
