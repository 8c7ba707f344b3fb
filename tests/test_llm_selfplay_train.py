"""The self-play trainer end to end on a tiny model built here: it learns Kuhn poker (exact expected
return against uniform random play, from its answer probabilities), resumes a killed run to the same
state, plays leagues and TicTacToe, and runs from a TOML config on the command line."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from redqueen.trainers.llm_selfplay import (  # noqa: E402
    ConfigError,
    Trainer,
    TrainerError,
    load_config,
    parse_config,
    read_metrics,
    train,
)
from redqueen.trainers.llm_selfplay.cli import add_parser, main  # noqa: E402


def _config(out, **over):
    data = {
        "games": [{"id": "kuhn_poker"}],
        "out": str(out),
        "iterations": 4,
        "games_per_iteration": 16,
        "checkpoint_every": 2,
        "warmup": {"steps": 5, "batch": 12},
        "eval": {"every": 0, "games": 4, "opponents": []},
        "log": {"plot": False},
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return parse_config(data)


def test_a_short_cpu_run_learns_to_beat_random_play(tmp_path):
    """Self-play from a format warm-up: the exact expected return against uniform random play rises
    by at least 0.15 chips a hand, and fewer than 5% of the answers are invalid."""
    config = _config(
        tmp_path / "learn",
        iterations=24,
        games_per_iteration=128,
        checkpoint_every=24,
        warmup={"steps": 300, "batch": 12},
        algorithm={"loss": "reinforce", "epochs": 1, "lr": 3e-4},
        eval={"every": 24, "games": 50, "opponents": ["random"]},
    )
    invalid: list[float] = []
    trainer = Trainer(config, on_iteration=lambda t: invalid.append(read_last(t)))
    summary = trainer.run()
    # the first evaluation is of the warmed-up policy, before any self-play update
    start, end = trainer.history[0], trainer.history[-1]
    assert start["iteration"] == 0 and end["iteration"] == 24
    before = start["eval/kuhn_poker/exact_vs_random"]
    after = trainer.exact_return_vs_random()
    assert after == pytest.approx(end["eval/kuhn_poker/exact_vs_random"], abs=1e-9)
    assert after - before >= 0.15, (before, after)
    assert np.mean(invalid[-5:]) < 0.05, invalid
    assert summary["final"]["eval/invalid_rate"] < 0.05
    best = summary["best_exploitability"]["eval/kuhn_poker/exploitability"]
    assert best == min(row["eval/kuhn_poker/exploitability"] for row in trainer.history)
    names = {row["name"] for row in read_metrics(tmp_path / "learn")}
    for key in (
        "train/invalid_rate",
        "train/reply_chars",
        "train/baseline/kuhn_poker/p0",
        "eval/kuhn_poker/exploitability",
        "eval/kuhn_poker/vs_random/p0/win",
        "eval/kuhn_poker/vs_random/p1/win_low",
        "eval/reply_chars",
    ):
        assert key in names
    assert (tmp_path / "learn" / "policy" / "config.json").exists()


def read_last(trainer: Trainer) -> float:
    rows = [r for r in read_metrics(trainer.out) if r["name"] == "train/invalid_rate"]
    return rows[-1]["value"]


_KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    from redqueen.trainers.llm_selfplay import Trainer, parse_config
    import json
    config = parse_config(json.loads(sys.argv[1]))
    def kill(trainer):
        if trainer.iteration == 3:  # after the checkpoint of iteration 2, before the one of 4
            os.kill(os.getpid(), signal.SIGKILL)
    Trainer(config, on_iteration=kill).run()
    """
)


def _state(trainer: Trainer) -> dict:
    return {
        "policy": trainer.policy.trainable_state(),
        "baselines": trainer.baselines.values,
        "rng": trainer.rng.bit_generator.state,
        "iteration": trainer.iteration,
        "games": trainer.games_played,
        "magnet": trainer.magnet.trainable_state() if trainer.magnet is not None else None,
        "optimizer": trainer.optimizer.state_dict()["state"],
    }


def _same(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    else:
        assert a == b


def test_a_killed_run_resumes_to_the_same_state(tmp_path):
    import json

    over = {
        "algorithm": {"magnet_coef": 0.1, "magnet_refresh": 2, "entropy_coef": 0.01, "advantage": "rae"},
    }
    straight = Trainer(_config(tmp_path / "straight", **over))
    straight.run()
    config = _config(tmp_path / "killed", **over)
    data = config.to_dict()
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, json.dumps(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (tmp_path / "killed" / "checkpoint.pt").exists()
    resumed = Trainer(config)
    assert resumed.load_checkpoint() and resumed.iteration == 2
    resumed = Trainer(config)
    resumed.run()
    _same(_state(straight), _state(resumed))
    # the metrics of the lost iteration 3 were dropped and written again, once
    rows = [r for r in read_metrics(tmp_path / "killed") if r["name"] == "train/loss"]
    assert [r["iteration"] for r in rows] == [1, 2, 3, 4]
    # a changed config cannot resume from that checkpoint
    changed = config.replace(algorithm=config.algorithm.__class__(lr=5e-4))
    with pytest.raises(TrainerError, match="another config"):
        Trainer(changed).run()


def test_league_mode_adds_snapshots_to_the_league_store(tmp_path):
    from redqueen.league.store import LeagueStore

    config = _config(
        tmp_path / "league",
        iterations=4,
        opponents={"mode": "league", "league": ["random", "nash"], "snapshot_every": 2, "self_play": 0.25},
        algorithm={"advantage": "mars", "loss": "reinforce", "epochs": 1},
    )
    trainer = Trainer(config)
    trainer.run()
    assert list(trainer.snapshots) == ["live@0", "live@2", "live@4"]
    with LeagueStore(tmp_path / "league" / "league.sqlite", create=False) as store:
        names = [a.name for a in store.agents()]
        matches = store.matches()
    assert {"live", "random", "nash", "live@0", "live@2"} <= set(names)
    opponents = {seat for m in matches for seat in m.seats if seat != "live"}
    assert opponents & {"random", "nash"} and opponents & {"live@0", "live@2"}
    assert all("live" in m.seats for m in matches)
    # a snapshot is an ordinary league member: its spec rebuilds it as a text agent
    from redqueen.league.specs import build_agent
    from redqueen.registry import make_game

    record = next(
        a for a in LeagueStore(tmp_path / "league" / "league.sqlite").agents() if a.name == "live@2"
    )
    agent = build_agent(record.spec, make_game("kuhn_poker"), name="live@2", base_dir=tmp_path / "league")
    assert agent.view == "text" and agent.name == "live@2"


def test_tictactoe_and_kuhn_in_one_run_with_lora_and_a_fixed_opponent(tmp_path):
    pytest.importorskip("peft")
    config = _config(
        tmp_path / "two",
        iterations=2,
        games=[{"id": "tictactoe", "weight": 2.0}, {"id": "kuhn_poker", "params": {"rounds": 3}}],
        model={"lora": {"r": 4, "alpha": 8}},
        generation={"max_new_tokens": 4},
        opponents={"mode": "fixed", "fixed": "random"},
        eval={"every": 2, "games": 6, "opponents": ["random", "nash"]},
        algorithm={"advantage": "none", "drop_zero_advantage": True, "kl_coef": 0.05},
    )
    trainer = Trainer(config)
    summary = trainer.run()
    rows = read_metrics(tmp_path / "two")
    turns = sum(r["value"] for r in rows if r["name"] == "train/turns")
    samples = sum(r["value"] for r in rows if r["name"] == "train/samples")
    assert 0 < samples <= turns  # drawn TicTacToe games have advantage 0 and are left out
    assert any(r["name"] == "train/kl_ref" for r in rows)
    final = summary["final"]
    for seat in (0, 1):
        for opponent in ("random", "nash"):  # "nash" is minimax in TicTacToe
            assert 0.0 <= final[f"eval/tictactoe/vs_{opponent}/p{seat}/win"] <= 1.0
    assert "eval/kuhn_poker(rounds=3)/vs_random/p0/win" in final
    assert not any(k.endswith("/exploitability") for k in final)  # not Kuhn's one-hand game
    assert all("lora_" in name for name in trainer.policy.trainable_state())


def test_the_command_line_runs_a_toml_config(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text(
        textwrap.dedent(
            """
            out = "out"
            iterations = 2
            games_per_iteration = 16
            [[games]]
            id = "kuhn_poker"
            [warmup]
            steps = 5
            [eval]
            every = 0
            games = 4
            opponents = ["random"]
            [log]
            plot = false
            """
        )
    )
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["llm-selfplay", str(config), "--quiet", "--iterations", "1"])
    assert args.handler.__name__ == "run_command"
    assert main([str(config), "--quiet", "--json", str(tmp_path / "s.json")]) == 0
    assert "2 iterations" in capsys.readouterr().out
    assert (tmp_path / "out" / "checkpoint.pt").exists() and (tmp_path / "s.json").exists()
    assert load_config(config).iterations == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[[games]]\nid = "kuhn_poker"\n[algorithm]\nadvantage = "gae"\n')
    assert main([str(bad)]) == 2
    assert "algorithm.advantage must be one of" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "at least one"),
        ({"games": [{"id": "kuhn_poker"}], "iteration": 3}, "unknown top-level key iteration"),
        ({"games": [{"id": "kuhn_poker", "wieght": 2}]}, r"\[games\[0\]\]: unknown key wieght"),
        ({"games": [{"id": "kuhn_poker", "weight": 0}]}, "games.0..weight must be > 0"),
        ({"games": [{"id": "chess"}]}, "unknown game 'chess'"),
        ({"games": [{"id": "kuhn_poker"}], "algorithm": {"loss": "dpo"}}, "algorithm.loss must be one of"),
        ({"games": [{"id": "kuhn_poker"}], "algorithm": {"rae_decay": 1.0}}, "rae_decay must be < 1"),
        ({"games": [{"id": "kuhn_poker"}], "algorithm": {"epochs": 0}}, "algorithm.epochs must be >= 1"),
        ({"games": [{"id": "kuhn_poker"}], "algorithm": {"magnet_refresh": 5}}, "magnet_coef is 0"),
        ({"games": [{"id": "kuhn_poker"}], "generation": {"backend": "vllm"}}, "runs on a GPU"),
        ({"games": [{"id": "kuhn_poker"}], "eval": {"games": "many"}}, "eval.games must be an integer"),
        ({"games": [{"id": "kuhn_poker"}, {"id": "kuhn_poker"}]}, "distinct 'name's"),
    ],
)
def test_bad_configs_name_the_field(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_train_accepts_a_dict_and_checks_its_input(tmp_path):
    summary = train(
        {
            "games": [{"id": "kuhn_poker"}],
            "out": str(tmp_path / "dict"),
            "iterations": 1,
            "games_per_iteration": 8,
            "eval": {"every": 0, "games": 2, "opponents": []},
            "log": {"plot": False},
        }
    )
    assert summary["iterations"] == 1 and summary["games"] == 8
    with pytest.raises(TypeError, match="SelfPlayConfig"):
        train(42)  # type: ignore[arg-type]


def test_the_benchmark_quick_run_writes_json_and_plot(tmp_path, capsys):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "llm_selfplay_kuhn.py"
    spec = importlib.util.spec_from_file_location("llm_selfplay_kuhn", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.json"
    bench.main(["--quick", "--out", str(out), "--variants", "spiral_rae", "regularised"])
    saved = json.loads(out.read_text())
    assert saved["quick"] is True and set(saved["kuhn"]) == {"spiral_rae", "regularised"}
    for result in saved["kuhn"].values():
        curve = result["curve"]
        assert [p["iteration"] for p in curve] == [0, 2, 4]
        assert all(0.0 <= p["eval/kuhn_poker/exploitability"] <= 1.0 for p in curve)
    assert "eval/tictactoe/vs_minimax/p0/loss" in saved["tictactoe"]["curve"][-1]
    assert out.with_suffix(".png").is_file()
    printed = capsys.readouterr().out
    assert "kuhn llm self-play regularised: best exploitability" in printed and "target:" in printed
