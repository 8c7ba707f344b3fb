"""The Red Queen loop: rounds against earlier champions, reproducibility, workers, resuming after a
kill, the config, the CLI, the report and champions in a league."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from redqueen.cli import main as cli_main
from redqueen.envs.corewar import assemble
from redqueen.trainers.red_queen import (
    ConfigError,
    champion_agent,
    config_toml,
    league_agents,
    load_config,
    load_run,
    parse_config,
    run_red_queen,
    write_report,
)
from redqueen.trainers.red_queen.report import diversity

SMALL = {
    "seed": 1,
    "rounds": 3,
    "iterations": 6,
    "max_iterations": 40,
    "n_init": 4,
    "fitness": {"battles": 4},
    "settings": {"cycles": 2000},
    "archive": {"probe_cycles": 400},
}
ROOT = Path(__file__).resolve().parents[1]


def small(**changes) -> dict:
    raw = json.loads(json.dumps(SMALL))
    raw.update(changes)
    return raw


def outcome(folder: Path) -> dict:
    """Everything a run decided (no timings): records, champions, archives."""
    data = json.loads((folder / "run.json").read_text())
    rounds = []
    for record in data["rounds"]:
        record.pop("seconds")
        sub = folder / f"round_{record['round']:03d}"
        record["champion_source"] = (sub / "champion.red").read_text()
        record["archive"] = json.loads((sub / "archive.json").read_text())
        rounds.append(record)
    return {"config": data["config"], "rounds": rounds}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted 3-round run of SMALL (one process)."""
    folder = tmp_path_factory.mktemp("reference")
    result = run_red_queen(parse_config(small()), folder, workers=1)
    return folder, result


def test_a_three_round_mutation_run_finishes_and_every_champion_beats_or_ties_the_earlier_ones(reference):
    folder, result = reference
    assert [r.round for r in result.rounds] == [1, 2, 3] and result.resumed_from == 0
    for t in (1, 2, 3):
        scores = json.loads((folder / f"round_{t:03d}" / "scores.json").read_text())
        assert [o["name"] for o in scores["opponents"]] == ["imp"] + [f"round_{k:03d}" for k in range(1, t)]
        records = scores["champion"]["evaluation"]["opponents"]
        earlier = [r for r in records if r["role"] == "champion"]
        assert len(earlier) == t - 1
        for r in earlier:  # the recorded fitness battles: credit at least each earlier champion's
            assert r["beats"] and r["score"] >= r["opponent_score"]
        assert scores["record"]["beats_all"] and result.rounds[t - 1].beats_all
        # the champion is the archive's best, and its file assembles to the recorded program
        archive = json.loads((folder / f"round_{t:03d}" / "archive.json").read_text())
        best = max(e["fitness"] for e in archive["elites"] if e["beats_all"])
        assert scores["champion"]["fitness"] == best == result.rounds[t - 1].fitness
        source = (folder / f"round_{t:03d}" / "champion.red").read_text()
        assert assemble(source).load_file() == assemble(scores["champion"]["source"]).load_file()
        assert archive["coverage"] == len(archive["elites"]) == scores["record"]["coverage"]
        assert scores["history"][-1]["iteration"] == scores["record"]["iterations"] >= SMALL["iterations"]


def test_the_same_seed_gives_the_same_run_and_another_seed_another(reference, tmp_path):
    folder, _ = reference
    run_red_queen(parse_config(small()), tmp_path / "again", workers=1)
    assert outcome(tmp_path / "again") == outcome(folder)
    run_red_queen(parse_config(small(seed=2, rounds=1)), tmp_path / "other", workers=1)
    assert outcome(tmp_path / "other")["rounds"][0]["archive"] != outcome(folder)["rounds"][0]["archive"]


def test_two_workers_give_the_same_champions(reference, tmp_path):
    folder, _ = reference
    run_red_queen(parse_config(small()), tmp_path, workers=2)
    assert outcome(tmp_path) == outcome(folder)


KILLABLE = textwrap.dedent(
    """
    import sys, time
    from redqueen.trainers.red_queen import MutationGenerator, load_config, run_red_queen

    class Slow(MutationGenerator):  # the same warriors, slowly: time to be killed mid-round
        def mutate(self, request):
            time.sleep(0.05)
            return super().mutate(request)

    run_red_queen(load_config(sys.argv[1]), sys.argv[2], generator=Slow(), workers=1)
    """
)


def test_a_run_killed_mid_round_resumes_to_the_same_champions(reference, tmp_path):
    folder, _ = reference
    config = tmp_path / "drq.toml"
    config.write_text(config_toml(small()))
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", KILLABLE, str(config), str(out)], env=env)
    log = out / "round_002" / "generations.jsonl"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and child.poll() is None:
            finished = out / "run.json"
            if finished.exists() and log.exists() and len(log.read_text().splitlines()) >= 8:
                break
            time.sleep(0.02)
        assert child.poll() is None, "the run ended before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert len(json.loads((out / "run.json").read_text())["rounds"]) == 1  # killed inside round 2
    assert not (out / "round_002" / "scores.json").exists()
    result = run_red_queen(load_config(config), out, workers=1)
    assert result.resumed_from == 1 and [r.round for r in result.rounds] == [1, 2, 3]
    assert outcome(out) == outcome(folder)


def test_resuming_extends_a_run_and_refuses_another_config(reference, tmp_path):
    folder, _ = reference
    first = run_red_queen(parse_config(small()), tmp_path, workers=1, stop_after=1)
    assert len(first.rounds) == 1
    assert run_red_queen(parse_config(small(rounds=2)), tmp_path, workers=1).resumed_from == 1
    result = run_red_queen(parse_config(small()), tmp_path, workers=1)  # rounds may grow
    assert result.resumed_from == 2 and outcome(tmp_path) == outcome(folder)
    with pytest.raises(ConfigError, match=r"another config \(different: fitness.battles, seed\)"):
        run_red_queen(parse_config(small(seed=5, fitness={"battles": 3})), tmp_path, workers=1)


def test_the_pairwise_mode_runs_and_champions_do_not_lose_to_earlier_ones(tmp_path):
    raw = small(rounds=2, fitness={"mode": "pairwise", "battles": 6})
    result = run_red_queen(parse_config(raw), tmp_path, workers=1)
    scores = json.loads((tmp_path / "round_002" / "scores.json").read_text())
    (earlier,) = [r for r in scores["champion"]["evaluation"]["opponents"] if r["role"] == "champion"]
    assert earlier["wins"] >= earlier["losses"] and earlier["wins"] + earlier["ties"] + earlier["losses"] == 6
    assert result.rounds[1].beats_all and 0 <= result.rounds[1].fitness <= 3


# ---- config ------------------------------------------------------------------------------------------


def test_config_round_trips_through_toml_and_bad_keys_are_named(tmp_path):
    raw = small(
        generality={"folder": "library", "rounds": 10}, generator={"type": "mutation", "start": "random"}
    )
    config = parse_config(raw)
    path = tmp_path / "c.toml"
    path.write_text(config_toml(config.to_dict()))
    again = load_config(path)
    assert again.identity() == config.identity() and again.settings.cycles == 2000
    for bad, message in [
        ({"roundz": 3}, "unknown key roundz"),
        ({"fitness": {"mode": "elo"}}, "fitness.mode must be one of drq, pairwise"),
        ({"archive": {"axes": ["tsp", "tsp"]}}, "archive.axes"),
        ({"archive": {"bins": {"mc": [5, 3]}}}, "archive.bins.mc"),
        ({"iterations": -1}, "iterations must be an integer >= 0"),
        ({"generator": {"type": "llm"}}, "generator.model"),
        ({"generator": {"type": "mutation", "start": "zero"}}, "generator.start"),
        ({"settings": {"coresize": 0}}, "settings: Settings.coresize"),
        ({"new_fraction": 2}, r"new_fraction must be in \[0.0, 1.0\]"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_config(bad)
    with pytest.raises(ConfigError, match="initial: 'no_such_warrior' is not a library warrior"):
        run_red_queen(parse_config({"initial": ["no_such_warrior"]}), tmp_path / "x")


# ---- command line, report, league --------------------------------------------------------------------


def test_the_cli_runs_resumes_reports_and_shows_status(tmp_path, capsys):
    config = tmp_path / "evo.toml"
    config.write_text(config_toml(small(rounds=2, generality={"folder": "library", "rounds": 4})))
    out = tmp_path / "out"
    assert cli_main(["evolve", "run", str(config), "--out", str(out), "--quiet", "--workers", "1"]) == 0
    assert "Red Queen run" in capsys.readouterr().out
    assert (
        cli_main(
            ["evolve", "run", str(config), "--out", str(out), "--quiet", "--rounds", "3", "--workers", "1"]
        )
        == 0
    )
    assert "resumed after round 2" in capsys.readouterr().out
    assert cli_main(["evolve", "status", str(out), "--json", str(tmp_path / "s.json")]) == 0
    status = json.loads((tmp_path / "s.json").read_text())
    assert status["finished"] == 3 and all(0 <= r["generality"] <= 1 for r in status["rounds"])
    assert cli_main(["evolve", "report", str(out), "--out", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "rep" / "report.png").stat().st_size > 10_000
    assert cli_main(["evolve", "status", str(tmp_path / "nowhere")]) == 2
    assert "no Red Queen run" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("rounds = 0\n")
    assert cli_main(["evolve", "run", str(bad), "--out", str(tmp_path / "b"), "--quiet"]) == 2
    assert "rounds must be an integer >= 1" in capsys.readouterr().err


def test_the_report_plots_runs_and_measures_diversity_across_them(reference, tmp_path):
    folder, _ = reference
    other = tmp_path / "seed2"
    run_red_queen(parse_config(small(seed=2, rounds=2)), other, workers=1)
    paths = write_report([folder, other], tmp_path / "report")
    assert {p.name for p in paths.values()} == {"report.png", "report.json", "report.html"}
    data = json.loads(paths["json"].read_text())
    assert [len(r["rounds"]) for r in data["runs"]] == [3, 2]
    assert [d["round"] for d in data["diversity"]] == [1, 2]  # rounds both runs finished
    import math

    runs = [load_run(folder), load_run(other)]
    for d in data["diversity"]:
        a, b = (run["rounds"][d["round"] - 1]["descriptors"] for run in runs)
        expected = math.dist(*((math.log10(1 + x["tsp"]), math.log10(1 + x["mc"])) for x in (a, b)))
        assert d["mean_distance"] == pytest.approx(expected)
    assert diversity(runs[:1]) == []
    assert "<table>" in paths["html"].read_text() and paths["png"].stat().st_size > 10_000


def test_champions_join_a_league_as_agents(reference, tmp_path):
    from redqueen.league.config import parse_config as league_config
    from redqueen.league.manager import run_league

    folder, _ = reference
    agents = league_agents(folder)
    assert [a["name"] for a in agents] == ["drq-r001", "drq-r002", "drq-r003"]
    one = champion_agent(str(folder), 2)
    assert one.name == "round_002" and "```redcode" in one.act({})
    with pytest.raises(Exception, match="no champion for round 9"):
        champion_agent(str(folder), 9)
    imp = {"name": "imp", "spec": {"type": "python", "factory": "redqueen.envs.corewar.agents:WarriorAgent"}}
    imp["spec"]["warriors"] = "imp"
    config = league_config(
        {
            "game": "corewar",
            "game_params": {"settings": {"cycles": 2000}},
            "games_per_pair": 2,
            "agents": [*agents, imp],
        }
    )
    summary = run_league(config, tmp_path / "league", progress=False)
    assert summary.games == 6 * 2 and set(summary.agents) == {"drq-r001", "drq-r002", "drq-r003", "imp"}
