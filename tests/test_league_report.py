"""The league's HTML report (redqueen.league.report) on stores built by hand."""

from __future__ import annotations

import base64
import html
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from redqueen.league import ratings
from redqueen.league.ratings import elo_fit
from redqueen.league.report import PLOTS_HINT, render_html, report_data, write_report
from redqueen.league.store import (
    AgentRecord,
    LeagueStore,
    MatchRecord,
    RatingRecord,
    StoreError,
    TrainingRecord,
)

ODD = "<b>x&y</b>"  # a name that must be escaped everywhere
STRENGTH = {"strong": 2.0, "learner": 1.0, "learner@1": 0.5, ODD: 0.0, "weak": -1.0}
SECTIONS = ("summary", "results", "plots", "pairwise")


def _agents() -> list[AgentRecord]:
    return [
        AgentRecord("strong", "scripted", {"cls": "Strong"}, created=1.0e9),
        AgentRecord("learner", "learner", {"algo": "ppo"}, role="main", created=1.0e9),
        AgentRecord("learner@1", "snapshot", {"algo": "ppo"}, parent="learner", role="main", created=1.0e9),
        AgentRecord(ODD, "python", {"fn": "odd"}, created=1.0e9),
        AgentRecord("weak", "scripted", {"cls": "Weak"}, created=1.0e9),
    ]


def _games(n: int, seed: int = 0) -> list[MatchRecord]:
    """``n`` two-player games between random pairs: the stronger agent wins more often; 10% draws; a few
    self-play games of the learner."""
    rng = np.random.default_rng(seed)
    names = list(STRENGTH)
    games = []
    for k in range(n):
        if k % 50 == 49:
            a = b = "learner"
        else:
            a, b = rng.choice(names, size=2, replace=False)
        p = 1 / (1 + math.exp(STRENGTH[b] - STRENGTH[a]))
        u = rng.random()
        returns = (0.0, 0.0) if u < 0.1 else (1.0, -1.0) if rng.random() < p else (-1.0, 1.0)
        games.append(
            MatchRecord(
                key=f"g{k}",
                game_id="kuhn_poker",
                seats=(str(a), str(b)),
                seed=k,
                returns=returns,
                invalid=(int(k % 97 == 0), 0),
                length=3,
                duration=0.01,
                runner="local",
                created=1.0e9 + k,
            )
        )
    return games


def _build(path: Path, *, games: int = 300, ratings: bool = True, training: bool = True) -> list[MatchRecord]:
    records = _games(games)
    with LeagueStore(path) as store:
        store.init_config({"name": "test league", "game": "kuhn_poker"})
        for agent in _agents():
            store.add_agent(agent)
        store.record_matches(records)
        if ratings:
            for step in (100, 200, games):
                fit = elo_fit(records[:step])
                store.add_ratings(
                    [
                        RatingRecord(name, "elo", value, None, step, step, 1.0e9 + step)
                        for name, value in fit.items()
                    ]
                )
        if training:
            rows = []
            for generation in (1, 2, 3):
                steps = 1000 * generation
                rows.append(
                    TrainingRecord(
                        "learner", generation, steps, "weak", 20, 10 + generation, 2, 8 - generation
                    )
                )
                rows.append(
                    TrainingRecord(
                        "learner", generation, steps, metric="exploitability", value=0.5 / generation
                    )
                )
                rows.append(
                    TrainingRecord(
                        "learner", generation, steps, metric="draw_rate_vs:mm", value=0.1 * generation
                    )
                )
            store.add_training(rows)
    return records


def _expected_wdl(records: list[MatchRecord]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {name: Counter() for name in STRENGTH}
    for m in records:
        (a, b), (ra, rb) = m.seats, m.returns
        if a == b:
            counts[a]["self_play"] += 2
            continue
        for me, mine, theirs in ((a, ra, rb), (b, rb, ra)):
            counts[me]["wins" if mine > theirs else "draws" if mine == theirs else "losses"] += 1
    return counts


@pytest.fixture(scope="module")
def league(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[MatchRecord], str]:
    folder = tmp_path_factory.mktemp("league")
    db = folder / "league.sqlite"
    records = _build(db)
    out = write_report(db)
    return db, records, out.read_text(encoding="utf-8")


def _pngs(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)]


def test_report_is_one_self_contained_html_file(league: tuple[Path, list[MatchRecord], str]) -> None:
    db, _, text = league
    assert (db.parent / "report.html").is_file()
    assert sorted(p.name for p in db.parent.iterdir() if not p.name.startswith("league.sqlite")) == [
        "report.html"
    ]  # no temporary file left behind
    assert text.startswith("<!DOCTYPE html>")
    assert text.count("<html") == 1 and text.count("</html>") == 1
    for section in (*SECTIONS, "learners"):
        assert f'<section id="{section}">' in text
    for heading in ("Results", "Plots", "Pairwise results", "Learners"):
        assert f"<h2>{heading}</h2>" in text
    assert "<h1>test league</h1>" in text and "kuhn_poker" in text
    pngs = _pngs(text)
    assert len(pngs) == 4  # rating history, heatmap, scores, training curves
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in pngs)
    assert not re.search(r"<script|<link|src=\"http|url\(", text)


def test_names_are_escaped(league: tuple[Path, list[MatchRecord], str]) -> None:
    _, _, text = league
    assert ODD not in text
    assert html.escape(ODD) in text


def test_report_data_counts(league: tuple[Path, list[MatchRecord], str]) -> None:
    db, records, _ = league
    with LeagueStore(db, create=False) as store:
        data = report_data(store)
    json.dumps(data, allow_nan=False)  # JSON-able, NaN as None
    assert (data["n_agents"], data["n_games"], data["n_learners"]) == (5, len(records), 1)
    assert data["game_id"] == "kuhn_poker" and data["players"] == [2]
    expected = _expected_wdl(records)
    by_name = {a["name"]: a for a in data["agents"]}
    assert set(by_name) == set(STRENGTH)
    for name, row in by_name.items():
        want = expected[name]
        assert (row["wins"], row["draws"], row["losses"]) == (want["wins"], want["draws"], want["losses"])
        assert row["self_play"] == want["self_play"]
        assert row["games"] == row["wins"] + row["draws"] + row["losses"]
        assert row["score"] == pytest.approx((row["wins"] + row["draws"] / 2) / row["games"])
        assert row["score_low"] < row["score"] < row["score_high"]
    assert by_name["learner@1"]["parent"] == "learner" and by_name["learner"]["role"] == "main"
    assert sum(a["invalid"] for a in data["agents"]) == sum(m.invalid[0] for m in records)
    # every non-self-play game is in exactly one pair
    assert sum(p["games"] for p in data["pairs"]) == sum(m.seats[0] != m.seats[1] for m in records)
    # stored Elo: the latest rows are used, and the strongest agent ranks first
    assert data["elo_source"] == "stored"
    latest = elo_fit(records)
    for name, row in by_name.items():
        assert row["elo"] == pytest.approx(latest[name])
        assert row["elo_step"] == len(records)
    assert [a["rank"] for a in data["agents"]] == [1, 2, 3, 4, 5]
    assert data["agents"][0]["name"] == "strong" and data["agents"][-1]["name"] == "weak"
    assert sum(a["nash"] for a in data["agents"]) == pytest.approx(1.0)
    assert len(data["history"]["series"]["strong"]) == 3
    assert data["training"]["learner"]["exploitability"] == [[1000, 0.5], [2000, 0.25], [3000, 0.5 / 3]]
    learner = data["learners"][0]
    assert (learner["generations"], learner["steps"], learner["games"]) == (3, 3000, 60)
    assert learner["metrics"]["draw_rate_vs:mm"] == pytest.approx(0.3)


def test_elo_is_fitted_when_none_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "league.sqlite"
    records = _build(db, games=200, ratings=False, training=False)
    out = write_report(db, tmp_path / "sub" / "other.html", title="My <league>")
    text = out.read_text(encoding="utf-8")
    assert "<h1>My &lt;league&gt;</h1>" in text
    assert len(_pngs(text)) == 2  # heatmap and scores; notes for the rating history and training curves
    assert "no ratings are stored yet" in text and "no training metrics are stored" in text
    with LeagueStore(db, create=False) as store:
        data = report_data(store, rankings=False)
    assert all(a["nash"] is None and a["alpha_rank"] is None for a in data["agents"])
    assert data["elo_source"] == "elo_fit" and data["agents"][0]["name"] == "strong"
    assert data["agents"][0]["elo"] == pytest.approx(elo_fit(records)["strong"])
    assert data["n_learners"] == 1  # the learner agent, though it has no training rows


def test_without_matplotlib_the_tables_remain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "league.sqlite"
    _build(db, games=120)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    text = write_report(db).read_text(encoding="utf-8")
    assert _pngs(text) == []
    assert html.escape(PLOTS_HINT) in text
    for section in SECTIONS:
        assert f'<section id="{section}">' in text
    assert text.count("<tr>") > 10  # results and pairwise tables


def test_a_failing_ranking_leaves_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(matrix: object) -> dict[str, float]:
        raise ImportError("no alpharank here")

    db = tmp_path / "league.sqlite"
    _build(db, games=120, training=False)
    monkeypatch.setattr(ratings, "alpha_rank", broken)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # plots are tested elsewhere; keep this fast
    text = write_report(db).read_text(encoding="utf-8")
    assert "alpha-rank skipped: ImportError: no alpharank here" in text
    assert "α-rank mass" not in text and "Nash weight" in text


def test_empty_league(tmp_path: Path) -> None:
    db = tmp_path / "league.sqlite"
    with LeagueStore(db) as store:
        store.init_config({"name": "empty", "game": "kuhn_poker"})
        for agent in _agents():
            store.add_agent(agent)
    text = write_report(db).read_text(encoding="utf-8")
    assert "No games have been played yet." in text
    assert _pngs(text) == []
    assert html.escape(ODD) in text and ODD not in text
    with LeagueStore(db, create=False) as store:
        data = report_data(store)
    json.dumps(data, allow_nan=False)
    assert data["n_games"] == 0 and data["game_id"] == "kuhn_poker" and data["pairs"] == []
    assert all(a["games"] == 0 and a["score"] is None and a["elo"] is None for a in data["agents"])


def test_multiplayer_league_uses_openskill(tmp_path: Path) -> None:
    db = tmp_path / "league.sqlite"
    rng = np.random.default_rng(1)
    names = ["a", "b", "c", "d"]
    games = []
    for k in range(60):
        seats = [str(s) for s in rng.permutation(names)[:3]]
        returns = [float(names.index(s)) + rng.random() for s in seats]  # "d" is strongest
        games.append(
            MatchRecord(f"g{k}", "liars_dice", tuple(seats), k, tuple(returns), (0, 0, 0), 5, 0.1, "local")
        )
    with LeagueStore(db) as store:
        store.init_config({"name": "ffa"})
        for name in names:
            store.add_agent(AgentRecord(name, "scripted", {}))
        store.record_matches(games)
        data = report_data(store)
    assert data["players"] == [3] and data["elo_source"] is None and data["skill_source"] == "openskill"
    assert data["agents"][0]["name"] == "d" and data["agents"][0]["mu"] > data["agents"][-1]["mu"]
    assert sum(a["games"] for a in data["agents"]) == 3 * len(games)
    assert data["pairs"] == [] and any("two-player" in note for note in data["notes"])
    text = render_html(data)
    assert "OpenSkill mu" in text and "No pairs of agents have met yet." in text


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "league.sqlite"
    with pytest.raises(StoreError, match="no league store"):
        write_report(missing)
    assert not missing.parent.exists()
