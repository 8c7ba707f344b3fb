"""benchmarks/red_queen.py runs end to end (a smoke run of parts a and b; no timing is asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_red_queen_benchmark_quick_run_writes_json_and_plots(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("red_queen_bench", ROOT / "benchmarks" / "red_queen.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "red_queen.json"
    data = bench.main(["--quick", "--parts", "ab", "--workers", "1", "--no-progress", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["quick"] is True and saved["benchmark"] == "red_queen"
    speed = saved["a_fitness_speed"]
    assert (
        speed["warriors_per_battle"] == 22
        and speed["ratio"] == speed["drq_cpu_s_per_evaluation"] / (speed["cpu_s_per_evaluation"])
    )
    (run,) = saved["b_mutation_runs"]["runs"]
    assert len(run["generality"]) == 2 and all(0 <= g <= 1 for g in run["generality"])
    assert Path(data["b_mutation_runs"]["plot"]).stat().st_size > 10_000
    assert Path(saved["b_mutation_runs"]["report"]["png"]).exists()
    printed = capsys.readouterr().out
    assert "ratio" in printed and "generality vs library" in printed
