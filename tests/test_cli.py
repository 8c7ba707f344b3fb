"""The `redqueen` command."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest

from redqueen import cli


def test_demo_prints_the_round_robin_and_exploitability(capsys, tmp_path):
    out_file = tmp_path / "demo" / "results.json"
    args = ["demo", "--games", "6", "--seed", "1", "--json", str(out_file), "--ppo-steps", "512"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "Kuhn poker: 6 games per pairing" in out and "TicTacToe: 6 games per pairing" in out
    for name in ("random", "nash", "cfr", "minimax", "ppo"):
        assert name in out
    assert "exploitability" in out and "0.4583" in out  # a uniform random Kuhn policy
    data = json.loads(out_file.read_text())
    assert data["games_per_pairing"] == 6 and data["seed"] == 1
    kuhn = data["games"]["kuhn_poker"]
    n_agents = len(kuhn["agents"])
    assert len(kuhn["pairings"]) == n_agents * (n_agents - 1) // 2
    assert all(p["swap_seats"] and p["n_games"] == 6 for p in kuhn["pairings"])
    (ttt,) = data["games"]["tictactoe"]["pairings"]
    assert ttt["agent_names"] == ["random", "minimax"] and ttt["wins"][0] == 0
    assert data["exploitability"]["random"] == pytest.approx(0.4583, abs=1e-3)
    assert data["exploitability"]["nash"] == pytest.approx(0.0, abs=1e-6)
    assert 0.0 <= data["exploitability"]["cfr"] < 0.01


def test_demo_rejects_a_bad_game_count(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--games", "many"])
    assert info.value.code == 2
    assert "positive integer" in capsys.readouterr().err


def test_play_prints_the_summary(capsys, tmp_path):
    path = tmp_path / "match.json"
    rc = cli.main(
        ["play", "tictactoe", "minimax", "random", "--games", "5", "--seed", "3", "--json", str(path)]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "tictactoe: 5 games, seed 3" in out
    minimax_line = next(line for line in out.splitlines() if line.strip().startswith("minimax"))
    assert re.search(r"L 0\b", minimax_line)
    data = json.loads(path.read_text())
    assert data["n_games"] == 5 and data["agent_names"] == ["minimax", "random"]


def test_play_options(capsys):
    args = "play kuhn_poker nash random --games 4 --seed 0 --swap -p rounds=2 --transcript --invalid random"
    rc = cli.main(args.split())
    assert rc == 0
    out = capsys.readouterr().out
    assert "kuhn_poker: 4 games, seed 0, seats rotated every game, invalid answers: random" in out
    assert "game 4:" in out
    # seats rotate: the nash agent opens game 1 and sits second in game 2
    game1, game2 = out.split("game 1:")[1].split("game 2:")
    assert re.search(r"seat 0 \S*nash\S*: ", game1) and re.search(
        r"seat 1 \S*nash\S*: ", game2.split("game 3:")[0]
    )


def test_play_reports_bad_input(capsys):
    assert cli.main(["play", "tictactoe", "minimax"]) == 2
    assert "give 2 agents" in capsys.readouterr().err
    assert cli.main(["play", "tictactoe", "cfr", "random"]) == 2
    assert "not defined for 'tictactoe'" in capsys.readouterr().err
    assert cli.main(["play", "checkers", "random", "random"]) == 2
    assert "unknown game" in capsys.readouterr().err


def test_list(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "kuhn_poker" in out and "tictactoe" in out and "minimax" in out and "human" in out


def test_play_with_a_human_shows_each_final_position_and_asks_again(capsys, monkeypatch):
    from redqueen.agents import RandomAgent

    made = []

    def fake_human(game):  # stands in for HumanAgent: a text agent whose first answer is a typo
        class Typo(RandomAgent):
            def act(self, observation):
                made.append(observation["text"])
                return "oops" if len(made) == 1 else super().act(observation)

        return Typo(name="human", view="text")

    monkeypatch.setattr(cli, "_human", fake_human)
    assert cli.main(["play", "tictactoe", "human", "minimax", "--games", "2", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "game 1: returns" in out and "game 2: returns" in out and "(over)" in out
    assert "previous answer was invalid" in made[1]  # retried, not forfeited
    human_line = next(line for line in out.splitlines() if line.strip().startswith("human"))
    assert "invalid 1" in human_line


def test_human_can_play_in_the_terminal(capsys, monkeypatch):
    # the person tries every cell in turn; taken cells are invalid answers and asked again
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(str(c) for c in range(9)) * 3 + "\n"))
    assert cli.main(["play", "tictactoe", "human", "minimax", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "game 1: returns" in out and "tictactoe: 1 game" in out


def test_python_dash_m_runs_the_command():
    proc = subprocess.run(
        [sys.executable, "-m", "redqueen", "play", "kuhn_poker", "random", "random", "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "kuhn_poker: 1 game, seed 1" in proc.stdout


def test_demo_draws_a_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plots" / "demo.png"
    assert cli.main(["demo", "--games", "4", "--ppo-steps", "0", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert f"plot written to {out}" in capsys.readouterr().out.replace("\n", "")
