"""League runs end to end: resume after SIGKILL, identical results on every runner, the CLI."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from redqueen.cli import main
from redqueen.league.config import ConfigError, load_config, parse_config
from redqueen.league.manager import League, expected_games, run_league
from redqueen.league.store import LeagueStore

SLOW_AGENT = textwrap.dedent(
    """
    import os
    import time

    from redqueen.agents import RandomAgent


    class SlowRandom(RandomAgent):
        # a random player that thinks for REDQUEEN_TEST_SLOW seconds a move
        def act(self, observation):
            time.sleep(float(os.environ.get("REDQUEEN_TEST_SLOW", "0")))
            return super().act(observation)
    """
)

FIXED_LEAGUE = """
game = "tictactoe"
runner = "local"
games_per_pair = 100
seed = 7
[[agents]]
name = "rand"
spec = "random"
[[agents]]
name = "mm"
spec = "minimax"
[[agents]]
name = "slow"
spec = "slow_agents:SlowRandom"
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _env(tmp_path: Path, slow: float) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    env["REDQUEEN_TEST_SLOW"] = str(slow)
    env["OMP_NUM_THREADS"] = "1"
    return env


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM matches").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


def _games(db: Path) -> dict[str, tuple]:
    with LeagueStore(db, create=False) as store:
        return {m.key: (m.seats, m.seed, m.returns, m.invalid, m.length) for m in store.matches()}


def _run_cli(config: Path, out: Path, env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "redqueen", "league", "run", str(config), "--out", str(out), "--quiet"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(
                f"the league run ended before it could be killed (rc {proc.returncode}):\n{out}\n{err}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the league run made no progress")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_mid_run_resumes_with_every_game_once(tmp_path, monkeypatch):
    _write(tmp_path, "slow_agents.py", SLOW_AGENT)
    config_path = _write(tmp_path, "league.toml", FIXED_LEAGUE)
    out = tmp_path / "run"
    db = out / "league.sqlite"
    expected = expected_games(load_config(config_path))
    assert expected == 300

    proc = _run_cli(config_path, out, _env(tmp_path, slow=0.004))
    _kill_when(proc, lambda: _count(db) > 0)
    killed_at = _count(db)
    assert 0 < killed_at < expected  # really killed mid-way
    with LeagueStore(db, create=False) as store:
        assert store.count_matches() % 20 == 0  # whole jobs only: a job is one transaction

    resumed = subprocess.run(
        [sys.executable, "-m", "redqueen", "league", "run", str(config_path), "--out", str(out), "--quiet"],
        env=_env(tmp_path, slow=0.0),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout
    games = _games(db)
    assert len(games) == expected

    # the same games as a run that was never interrupted (in-process, another folder)
    monkeypatch.syspath_prepend(str(tmp_path))
    reference = run_league(load_config(config_path), tmp_path / "reference", progress=False)
    assert reference.games == expected
    assert _games(tmp_path / "reference" / "league.sqlite") == games

    # a third run finds nothing to do
    again = run_league(load_config(config_path), out, progress=False)
    assert again.new_games == 0 and again.games == expected


LEARNER_LEAGUE = """
game = "kuhn_poker"
games_per_pair = 20
seed = 11
[[agents]]
name = "rand"
spec = "random"
[[agents]]
name = "nash"
spec = "nash"
[[learners]]
name = "ppo"
steps = 1536
snapshot_every = 256
hyperparams = {n_steps = 128, batch_size = 64, n_epochs = 2}
metrics = ["exploitability", "vs:nash"]
"""


def _weights(out: Path) -> dict[str, bytes]:
    folder = out / "checkpoints" / "ppo"
    result = {}
    for path in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            result[path.name] = archive.read("policy.pth")
    return result


def _metrics(db: Path) -> list[tuple]:
    with LeagueStore(db, create=False) as store:
        return [(t.learner, t.generation, t.steps, t.metric, t.value) for t in store.training() if t.metric]


def test_sigkill_during_training_resumes_to_the_same_weights(tmp_path):
    config_path = _write(tmp_path, "league.toml", LEARNER_LEAGUE)
    out = tmp_path / "run"
    db = out / "league.sqlite"

    def snapshots() -> int:
        if not db.exists():
            return 0
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                return int(conn.execute("SELECT COUNT(*) FROM agents WHERE kind = 'snapshot'").fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    proc = _run_cli(config_path, out, _env(tmp_path, 0.0))
    _kill_when(proc, lambda: snapshots() >= 3)  # ppo@0, two trained snapshots; training goes on
    with LeagueStore(db, create=False) as store:
        state = store.get_state("learner/ppo")
        assert not state["done"] and state["steps"] < 1536
    resumed = subprocess.run(
        [sys.executable, "-m", "redqueen", "league", "run", str(config_path), "--out", str(out), "--quiet"],
        env=_env(tmp_path, 0.0),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr

    reference = tmp_path / "reference"
    summary = run_league(load_config(config_path), reference, progress=False)
    assert summary.learners["ppo"]["steps"] == 1536 and summary.learners["ppo"]["reason"] == "budget"
    assert _weights(out) == _weights(reference)
    assert len(_weights(out)) == 1 + 1536 // 256
    assert _metrics(db) == _metrics(reference / "league.sqlite")
    assert _games(db) == _games(reference / "league.sqlite")
    # 9 members (2 agents, ppo@0 and 6 trained snapshots): 36 pairs of 20 games, each game stored once
    assert len(_games(db)) == 36 * 20


RUNNER_LEAGUE = {
    "game": "kuhn_poker",
    "games_per_pair": 30,
    "seed": 5,
    "agents": [
        {"name": "rand", "spec": "random"},
        {"name": "nash", "spec": "nash", "params": {"alpha": 0.25}},
        {"name": "cfr", "spec": "cfr", "params": {"iterations": 50}},
    ],
    "learners": [
        {
            "name": "ppo",
            "steps": 256,
            "snapshot_every": 256,
            "hyperparams": {"n_steps": 128, "batch_size": 64, "n_epochs": 1},
        }
    ],
}


def test_local_processes_and_ray_runners_give_identical_results(tmp_path):
    config = parse_config(RUNNER_LEAGUE)
    results = {}
    for runner in ("local", "processes", "ray"):
        summary = run_league(config, tmp_path / runner, runner=runner, workers=2, progress=False)
        assert summary.games == 10 * 30  # 5 members: rand, nash, cfr, ppo@0, ppo@256
        results[runner] = _games(summary.db_path)
        with LeagueStore(summary.db_path, create=False) as store:
            assert {m.runner for m in store.matches()} == {runner}
    assert results["processes"] == results["local"]
    assert results["ray"] == results["local"]
    # and the games are not all alike: the seeds really differ between games
    assert len({seed for _, seed, *_ in results["local"].values()}) > 100


def test_cli_short_league_with_a_ppo_learner_writes_the_report(tmp_path, capsys):
    config_path = _write(
        tmp_path,
        "ttt.toml",
        """
        game = "tictactoe"
        runner = "local"
        games_per_pair = 10
        seed = 0
        [[agents]]
        name = "rand"
        spec = "random"
        [[agents]]
        name = "mm"
        spec = "minimax"
        [[learners]]
        name = "ppo"
        steps = 512
        snapshot_every = 256
        deterministic = true
        hyperparams = {n_steps = 128, batch_size = 64, n_epochs = 2}
        target = {vs = "mm", games = 20, max_losses = 0}
        """.replace("\n        ", "\n"),
    )
    out = tmp_path / "out"
    assert main(["league", "run", str(config_path), "--out", str(out), "--quiet"]) == 0
    db = out / "league.sqlite"
    assert db.is_file()
    with LeagueStore(db, create=False) as store:
        names = [a.name for a in store.agents()]
        assert names == ["rand", "mm", "ppo", "ppo@0", "ppo@256", "ppo@512"]
        assert store.count_matches() == 10 * 10  # 5 members play 10 games per pair
        elo = {r.agent: r.value for r in store.ratings("elo") if r.games == 100}
        assert max(elo, key=elo.get) == "mm"
        metrics = {t.metric for t in store.training() if t.metric}
        assert {"vs:mm:losses", "vs:mm:draw_rate"} <= metrics
    capsys.readouterr()

    assert main(["league", "status", str(db)]) == 0
    status = capsys.readouterr().out
    assert "ppo@512" in status and "mm" in status and "learner ppo: 512 steps" in status

    assert main(["league", "report", str(db)]) == 0
    report = out / "report.html"
    assert report.is_file()
    html = report.read_text()
    assert html.count("<img") >= 3 and "ppo@256" in html

    assert main(["league", "status", str(out), "--json", str(tmp_path / "status.json")]) == 0
    data = json.loads((tmp_path / "status.json").read_text())
    assert data["n_games"] == 100


def test_resume_with_another_config_is_refused(tmp_path, capsys):
    first = _write(tmp_path, "a.toml", 'game = "tictactoe"\ngames_per_pair = 2\n' + _AGENTS)
    second = _write(tmp_path, "b.toml", 'game = "tictactoe"\ngames_per_pair = 4\n' + _AGENTS)
    out = tmp_path / "out"
    assert main(["league", "run", str(first), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["league", "run", str(second), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "another configuration" in err and "games_per_pair" in err
    # the runner may change on resume: it does not change the results
    assert main(["league", "run", str(first), "--out", str(out), "--quiet", "--runner", "processes"]) == 0


_AGENTS = '[[agents]]\nname = "a"\nspec = "random"\n[[agents]]\nname = "b"\nspec = "minimax"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('game = "chess"\n' + _AGENTS, "config.game must be one of"),
        ('game = "tictactoe"\nrunner = "slurm"\n' + _AGENTS, "config.runner"),
        ('game = "tictactoe"\ngames_per_pair = 0\n' + _AGENTS, "games_per_pair must be an integer >= 1"),
        ('game = "tictactoe"\ncolour = 1\n' + _AGENTS, "unknown key colour"),
        ('game = "tictactoe"\n[[agents]]\nname = "a"\n', "needs a 'spec'"),
        ('game = "tictactoe"\n[[agents]]\nname = "a"\nspec = "alphazero"\n' + _AGENTS, "unknown agent spec"),
        ('game = "tictactoe"\n' + _AGENTS + '[[agents]]\nname = "a"\nspec = "random"\n', "repeated: a"),
        ('game = "tictactoe"\n' + _AGENTS + '[[learners]]\nname = "p"\nrole = "coach"\n', "role must be"),
        ('game = "tictactoe"\n' + _AGENTS + '[[learners]]\nname = "p"\ntarget = {vs = "zz"}\n', "'zz'"),
        ('game = "tictactoe"\n' + _AGENTS + '[[learners]]\nname = "p@1"\n', "name must be"),
        ('game = "tictactoe"\n[[agents]]\nname = "a"\nspec = "human"\n', "human cannot play"),
        ("game = ", "not valid TOML"),
        (
            'game = "tictactoe"\n' + _AGENTS + '[[learners]]\nname = "p"\nopponents = ["zz"]\n',
            "neither agents",
        ),
        (
            'game = "kuhn_poker"\ngame_params = {rounds = 3}\n'
            + _AGENTS
            + '[[learners]]\nname = "p"\noracle = {}\n',
            "OpenSpiel",
        ),
    ],
)
def test_bad_configs_name_what_is_wrong(tmp_path, capsys, text, message):
    path = _write(tmp_path, "bad.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)
    assert main(["league", "run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert message.split("'")[0].split(" must")[0] in capsys.readouterr().err


def test_missing_files_give_clear_errors(tmp_path, capsys):
    assert main(["league", "run", str(tmp_path / "nope.toml"), "--quiet"]) == 2
    assert "no league config" in capsys.readouterr().err
    assert main(["league", "status", str(tmp_path / "nope.sqlite")]) == 2
    assert "no league store" in capsys.readouterr().err
    garbage = _write(tmp_path, "garbage.sqlite", "this is not a database" * 100)
    assert main(["league", "report", str(garbage)]) == 2
    assert "not a redqueen league store" in capsys.readouterr().err


def test_exploiters_follow_their_roles(tmp_path):
    config = parse_config(
        {
            "game": "kuhn_poker",
            "games_per_pair": 4,
            "agents": [{"name": "rand", "spec": "random"}],
            "learners": [
                {"name": "main", "steps": 256, "snapshot_every": 128, **_TINY},
                {"name": "mx", "role": "main_exploiter", "steps": 256, "snapshot_every": 128, **_TINY},
            ],
        }
    )
    with League(config, tmp_path / "out", progress=False) as league:
        summary = league.run()
        opponents: dict[int, set[str]] = {}
        for t in league.store.training("mx"):
            if t.opponent:
                opponents.setdefault(t.generation, set()).add(t.opponent)
        state = league.learner_state(config.learners[1])
    # learners take turns; the main exploiter plays the main agent's current snapshot only ...
    assert opponents == {1: {"main@128"}, 2: {"main@256"}}
    # ... and goes back to its initial weights after every snapshot
    assert state["checkpoint"] == state["initial"]
    assert summary.learners["main"]["checkpoint"].endswith("main@256.zip")


_TINY = {"hyperparams": {"n_steps": 64, "batch_size": 32, "n_epochs": 1}}


TALKERS = textwrap.dedent(
    """
    from redqueen.agents import Agent


    class Mumbler(Agent):
        # a text agent that never names a move
        view = "text"

        def act(self, observation):
            return "hmm, let me think about it"
    """
)


def test_invalid_text_answers_are_counted_and_transcripts_kept(tmp_path, monkeypatch):
    _write(tmp_path, "talkers.py", TALKERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = parse_config(
        {
            "game": "tictactoe",
            "games_per_pair": 6,
            "transcripts": True,
            "invalid": "retry",
            "agents": [
                {"name": "mumbler", "spec": "talkers:Mumbler"},
                {"name": "text-random", "spec": "random", "params": {"view": "text"}},
            ],
        }
    )
    summary = run_league(config, tmp_path / "out", progress=False)
    assert summary.games == 6
    with LeagueStore(summary.db_path, create=False) as store:
        games = store.matches()
    for game in games:
        mumbler = game.seats.index("mumbler")
        assert game.invalid[mumbler] == 3  # the first answer and two retries, then it forfeits
        assert game.invalid[1 - mumbler] == 0
        assert game.returns[mumbler] < game.returns[1 - mumbler]
        assert game.transcript is not None
    lines = (summary.out_dir / games[0].transcript).read_text().splitlines()
    assert len(lines) == 6
    turns = json.loads(lines[0])["turns"]
    bad = [t for t in turns if t["agent"] == "mumbler"]
    assert bad and all(t["invalid"] for t in bad) and bad[0]["reply"] == "hmm, let me think about it"
    assert bad[-1]["outcome"] == "forfeit" and "Legal moves" in bad[-1]["reason"]


THREAD_PROBE = textwrap.dedent(
    """
    import os
    from pathlib import Path

    import torch

    from redqueen.agents import RandomAgent


    def probe(**kwargs):
        # records how many threads torch has in the process that builds the agent
        folder = Path(os.environ["REDQUEEN_TEST_PROBE"])
        (folder / f"{os.getpid()}.txt").write_text(str(torch.get_num_threads()))
        return RandomAgent()
    """
)


def test_worker_processes_run_torch_with_one_thread(tmp_path, monkeypatch):
    from redqueen.league.runners import MatchJob, ProcessRunner

    _write(tmp_path, "thread_probe.py", THREAD_PROBE)
    probes = tmp_path / "probes"
    probes.mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers start with the parent's sys.path
    monkeypatch.setenv("REDQUEEN_TEST_PROBE", str(probes))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # the workers must not rely on the caller's
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    spec = {"type": "python", "factory": "thread_probe:probe"}
    jobs = [
        MatchJob(f"probe/{k}", "tictactoe", (("a", spec), ("b", {"type": "random"})), n_games=2, seed=k)
        for k in range(4)
    ]
    runner = ProcessRunner(workers=2)
    try:
        results = list(runner.run(jobs))
    finally:
        runner.close()
    assert len(results) == 4 and all(len(r.records) == 2 for r in results)
    counts = [p.read_text() for p in probes.iterdir()]
    assert counts and set(counts) == {"1"}
