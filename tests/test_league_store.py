"""Tests for redqueen.league.store: the league's SQLite store and atomic file writes."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from redqueen.league.store import (
    AgentRecord,
    LeagueStore,
    MatchRecord,
    RatingRecord,
    StoreError,
    TrainingRecord,
    atomic_save,
    atomic_write_bytes,
)


@pytest.fixture
def store(tmp_path):
    with LeagueStore(tmp_path / "league.sqlite") as s:
        yield s


def match(key: str, seats=("a", "b"), returns=(1.0, -1.0), **kwargs) -> MatchRecord:
    fields = {
        "game_id": "kuhn_poker",
        "seed": 7,
        "invalid": (0,) * len(seats),
        "length": 3,
        "duration": 0.25,
        "runner": "local",
    }
    fields.update(kwargs)
    return MatchRecord(key=key, seats=tuple(seats), returns=tuple(returns), **fields)


def agent(name: str, spec=None, **kwargs) -> AgentRecord:
    return AgentRecord(name, "scripted", spec if spec is not None else {"type": "random"}, **kwargs)


# ---- opening ---------------------------------------------------------------------------------------


def test_new_store_creates_file_and_folder(tmp_path):
    path = tmp_path / "a" / "b" / "league.sqlite"
    with LeagueStore(path) as s:
        assert s.path == path
        assert s.config() is None and s.agents() == [] and s.count_matches() == 0
    assert path.is_file()
    with LeagueStore(path, create=False) as s:  # it is a league now
        assert s.count_matches() == 0


def test_create_false_on_missing_path(tmp_path):
    path = tmp_path / "nothing" / "league.sqlite"
    with pytest.raises(StoreError, match="no league store"):
        LeagueStore(path, create=False)
    assert not path.exists() and not path.parent.exists()


def test_not_a_sqlite_file(tmp_path):
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not a database\x00\xff" * 64)
    with pytest.raises(StoreError) as err:
        LeagueStore(path)
    assert str(path) in str(err.value)
    assert "not a redqueen league store" in str(err.value)


def test_create_false_on_a_plain_sqlite_file(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    with db:
        db.execute("CREATE TABLE t (x)")
    db.close()
    with pytest.raises(StoreError, match="not a redqueen league store") as err:
        LeagueStore(path, create=False)
    assert str(path) in str(err.value)
    db = sqlite3.connect(path)
    try:  # opening it read-only wrote nothing
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()
    assert tables == {"t"}


def test_folder_path(tmp_path):
    with pytest.raises(StoreError, match="is a folder") as err:
        LeagueStore(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_other_schema_version(tmp_path):
    path = tmp_path / "league.sqlite"
    LeagueStore(path).close()
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    db.close()
    with pytest.raises(StoreError, match="schema 99"):
        LeagueStore(path)


def test_wal_mode(tmp_path):
    path = tmp_path / "league.sqlite"
    with LeagueStore(path):
        db = sqlite3.connect(path)
        try:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            db.close()


# ---- config ----------------------------------------------------------------------------------------


def test_init_config(store):
    config = {"game": "kuhn_poker", "seed": 1, "learners": [{"name": "L", "steps": 100}]}
    assert store.init_config(config) is True
    assert store.config() == config
    assert store.init_config(dict(reversed(list(config.items())))) is False  # same, other key order
    with pytest.raises(StoreError) as err:
        store.init_config({"game": "kuhn_poker", "seed": 2, "learners": [], "extra": True})
    message = str(err.value)
    assert "differs in: extra, learners, seed" in message
    assert "game" not in message.split("differs in:")[1]
    assert store.config() == config  # unchanged


def test_init_config_normalises_like_json(store):
    assert store.init_config({"sizes": (1, 2)}) is True
    assert store.init_config({"sizes": (1, 2)}) is False
    assert store.config() == {"sizes": [1, 2]}


# ---- agents ----------------------------------------------------------------------------------------


def test_add_agent_idempotent_and_conflicts(store):
    record = agent("random", version=2, checkpoint=None, parent="p", role="fixed")
    assert store.add_agent(record) is True
    assert store.add_agent(record) is False
    assert store.add_agent(agent("random", role="other")) is False  # role, version, parent: not identity
    assert len(store.agents()) == 1
    with pytest.raises(StoreError, match="already has an agent named 'random'"):
        store.add_agent(agent("random", {"type": "minimax"}))
    with pytest.raises(StoreError):
        store.add_agent(AgentRecord("random", "sb3", {"type": "random"}))
    with pytest.raises(StoreError):
        store.add_agent(agent("random", checkpoint="ckpt.zip"))
    assert store.agents() == [record]  # round trip, first definition kept


def test_add_agent_idempotent_with_tuples_in_spec(store):
    """A spec is stored as JSON; re-adding the same spec (tuples and all) is the same agent."""
    record = agent("py", {"type": "python", "factory": "m:f", "sizes": (1, 2)})
    assert store.add_agent(record) is True
    assert store.add_agent(record) is False
    assert store.agent("py").spec == {"type": "python", "factory": "m:f", "sizes": [1, 2]}


def test_agents_order_and_lookup(store):
    for name in ("b", "a", "c"):
        store.add_agent(agent(name, {"type": "random", "n": name}))
    assert [a.name for a in store.agents()] == ["b", "a", "c"]
    assert store.agent("a").spec == {"type": "random", "n": "a"}
    with pytest.raises(StoreError, match="no agent named 'zz'"):
        store.agent("zz")


# ---- matches ---------------------------------------------------------------------------------------


def test_record_matches_counts_each_key_once(store):
    first = [match("g/0"), match("g/1"), match("g/2")]
    assert store.record_matches(first) == 3
    assert store.count_matches() == 3
    assert store.record_matches([match("g/0"), match("g/1")]) == 0
    assert store.count_matches() == 3
    mixed = [match("g/3"), match("g/1", returns=(-1.0, 1.0)), match("g/4")]
    assert store.record_matches(mixed) == 2
    assert store.count_matches() == 5
    by_key = {m.key: m for m in store.matches()}
    assert by_key["g/1"].returns == (1.0, -1.0)  # the stored game is not replaced
    assert store.record_matches([]) == 0


def test_match_round_trip(store):
    records = [
        match("k/0", seats=("x", "y"), returns=(0.5, -0.5), invalid=(1, 0), seed=123, length=17,
              duration=1.5, runner="ray", transcript="transcripts/k0.json", created=1700000000.125),
        match("k/1", seats=("y", "x", "z"), returns=(1.0, 0.0, -1.0), transcript=None),
        match("k/2", seats=("solo",), returns=(3.25,), game_id="2048"),
        match("k/3", seats=("a", "b", "c"), returns=(1.0, 1.0, -2.0), roles=("spy", "civ", "civ")),
    ]  # fmt: skip
    store.record_matches(records)
    assert store.matches() == records
    assert store.matches()[0].seats == ("x", "y")
    assert [m.roles for m in store.matches()] == [None, None, None, ("spy", "civ", "civ")]


def test_record_matches_with_state(store):
    assert store.record_matches([match("s/0")], state={"phase": "league", "done": [1, 2]}) == 1
    assert store.get_state("phase") == "league" and store.get_state("done") == [1, 2]


def test_record_matches_is_one_transaction(store):
    with pytest.raises(ValueError):
        store.record_matches([match("t/0"), match("t/1")], state={"bad": float("nan")})
    assert store.count_matches() == 0
    assert store.get_state("bad") is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": "k", "seats": ("a", "b"), "returns": (1.0,)},
        {"key": "k", "seats": ("a", "b"), "returns": (1.0, 0.0), "invalid": (0,)},
        {"key": "k", "seats": (), "returns": (), "invalid": ()},
        {"key": "k", "seats": ("a", "b"), "returns": (float("nan"), 0.0)},
        {"key": "k", "seats": ("a", "b"), "returns": (float("inf"), 0.0)},
        {"key": "", "seats": ("a", "b"), "returns": (1.0, 0.0)},
        {"key": "k", "seats": ("a", "b"), "returns": (1.0, 0.0), "roles": ("spy",)},
    ],
)
def test_match_record_validation(kwargs):
    fields = {"game_id": "g", "seed": 0, "invalid": (0, 0), "length": 1, "duration": 0.0, "runner": "local"}
    fields.update(kwargs)
    with pytest.raises(ValueError):
        MatchRecord(**fields)


def test_match_keys(store):
    store.record_matches([match(k) for k in ("g1/0", "g1/1", "g2/0", "gx1/0", "%/0")])
    assert store.match_keys("g1/") == {"g1/0", "g1/1"}
    assert store.match_keys() == {"g1/0", "g1/1", "g2/0", "gx1/0", "%/0"}
    assert store.match_keys("g_") == set()  # a prefix, not a LIKE pattern
    assert store.match_keys("%") == {"%/0"}
    assert store.match_keys("zzz") == set()


# ---- transactions ----------------------------------------------------------------------------------


def test_transaction_rolls_back_on_error(store):
    with pytest.raises(RuntimeError, match="boom"), store.transaction() as db:
        db.execute("INSERT INTO state VALUES ('k', '1')")
        db.execute("INSERT INTO agents (name, kind, spec, created) VALUES ('ghost', 'scripted', '{}', 0)")
        raise RuntimeError("boom")
    assert store.get_state("k") is None
    assert store.agents() == []
    store.set_state("k", 2)  # the store still works after the rollback
    assert store.get_state("k") == 2


def test_add_training_is_all_or_nothing(store):
    store.add_agent(agent("snap", {"type": "random"}))
    rows = [
        TrainingRecord("L", 1, 100, opponent="random", games=10, wins=6, draws=1, losses=3),
        TrainingRecord("L", 1, 100, metric="exploitability", value=0.25),
    ]
    new = AgentRecord("L-1", "snapshot", {"type": "sb3", "path": "L-1.zip"}, checkpoint="L-1.zip")
    conflicting = agent("snap", {"type": "minimax"})
    with pytest.raises(StoreError, match="snap"):
        store.add_training(rows, agents=[new, conflicting], state={"learner/L": {"steps": 100}})
    assert store.training() == []
    assert [a.name for a in store.agents()] == ["snap"]
    assert store.get_state("learner/L") is None

    store.add_training(rows, agents=[new], state={"learner/L": {"steps": 100}})
    assert store.training() == rows
    assert store.agent("L-1") == new
    assert store.get_state("learner/L") == {"steps": 100}


# ---- ratings, training, state ----------------------------------------------------------------------


def test_ratings_round_trip(store):
    ratings = [
        RatingRecord("a", "elo", 1200.0, None, 10, 1),
        RatingRecord("b", "openskill", 25.0, 8.3, 10, 1),
        RatingRecord("a", "elo", 1250.5, 12.0, 20, 2),
    ]
    store.add_ratings(ratings)
    assert store.ratings() == ratings
    assert store.ratings("elo") == [ratings[0], ratings[2]]
    assert store.ratings("nash") == []


def test_training_round_trip(store):
    rows = [
        TrainingRecord("L", 0, 50, opponent="random", games=4, wins=2.0, draws=1.0, losses=1.0, seconds=1.5),
        TrainingRecord("M", 0, 50, opponent="L-0", games=2, wins=0.0, draws=0.0, losses=2.0),
        TrainingRecord("L", 1, 100, metric="loss", value=0.125),
    ]
    store.add_training(rows)
    assert store.training() == rows
    assert store.training("L") == [rows[0], rows[2]]
    assert store.training("nobody") == []


def test_state_round_trip(store):
    assert store.get_state("missing") is None
    assert store.get_state("missing", default=3) == 3
    store.set_state("progress", {"steps": 10, "phases": ["a", "b"], "ok": True, "x": None})
    assert store.get_state("progress") == {"steps": 10, "phases": ["a", "b"], "ok": True, "x": None}
    store.set_state("progress", 11)
    assert store.get_state("progress") == 11
    with pytest.raises(ValueError):
        store.set_state("nan", float("nan"))


# ---- two connections -------------------------------------------------------------------------------


def test_two_stores_on_one_file_see_each_other(tmp_path):
    path = tmp_path / "league.sqlite"
    with LeagueStore(path) as one, LeagueStore(path) as two:
        one.set_state("from", "one")
        assert two.get_state("from") == "one"
        two.record_matches([match("m/0"), match("m/1")])
        assert one.count_matches() == 2 and one.match_keys("m/") == {"m/0", "m/1"}
        one.add_agent(agent("a"))
        assert [a.name for a in two.agents()] == ["a"]
        assert two.add_agent(agent("a")) is False  # already there, seen through the other connection
        with one.transaction() as db:
            db.execute("INSERT INTO state VALUES ('pending', '1')")
            assert two.get_state("pending") is None  # not committed yet
        assert two.get_state("pending") == 1


# ---- atomic files ----------------------------------------------------------------------------------


def test_atomic_write_bytes(tmp_path):
    path = tmp_path / "sub" / "file.bin"
    data = bytes(range(256)) * 100
    assert atomic_write_bytes(path, data) == path
    assert path.read_bytes() == data
    assert atomic_write_bytes(path, b"second") == path
    assert path.read_bytes() == b"second"
    assert os.listdir(path.parent) == ["file.bin"]


def test_atomic_save_gives_a_temporary_file_with_the_same_suffix(tmp_path):
    path = tmp_path / "model.zip"
    seen: list[Path] = []

    def write(tmp: Path) -> None:
        seen.append(tmp)
        assert not path.exists()  # nothing at the final path while writing
        tmp.write_bytes(b"PK whole")

    assert atomic_save(path, write) == path
    assert path.read_bytes() == b"PK whole"
    assert seen[0].suffix == ".zip" and seen[0].parent == tmp_path and seen[0] != path
    assert not seen[0].exists()
    assert os.listdir(tmp_path) == ["model.zip"]


@pytest.mark.parametrize("existing", [False, True])
def test_atomic_save_failure_leaves_nothing_behind(tmp_path, existing):
    path = tmp_path / "checkpoint.zip"
    if existing:
        path.write_bytes(b"old checkpoint")

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_save(path, write)
    if existing:
        assert path.read_bytes() == b"old checkpoint"
        assert os.listdir(tmp_path) == ["checkpoint.zip"]
    else:
        assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_atomic_save_mode_follows_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = atomic_write_bytes(tmp_path / "f.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(path.stat().st_mode) != 0o600
