"""The league's store: one SQLite file (WAL) holding everything a league run knows.

Tables (see :data:`SCHEMA`):

* ``config``: the league's configuration (one JSON document), written once; a resumed run must
  bring the same configuration;
* ``agents``: every member of the league: ``name`` (unique), ``kind`` ("scripted", "sb3",
  "snapshot", "learner", "llm", "python"), ``spec`` (JSON: what rebuilds the agent in any process),
  ``version``, ``checkpoint`` path, ``parent`` (the agent it was copied from), ``role``, ``created``;
* ``matches``: one row per game played between league members: a unique ``key`` (from the
  deterministic schedule, so a resumed run never counts a game twice), ``game_id``, ``seats``
  (agent names in seat order), ``seed``, ``returns`` and ``invalid`` answers per seat, ``length``,
  ``duration`` (wall seconds), ``transcript`` path, ``runner``;
* ``ratings``: the rating history: ``(agent, system, value, sigma, games, step)`` rows;
* ``training``: what learners did: one row per learner chunk and opponent (games, wins, draws,
  losses, steps), and metrics (``metric``, ``value``) measured at snapshots;
* ``state``: small key/value progress records (learner steps, finished phases).

Every write is one transaction, so a run killed at any point (``kill -9`` included) leaves the
store as it was after the last finished write: finished games are kept, a half-written batch is
not there at all. :func:`atomic_write_bytes` and :func:`atomic_save` write files (checkpoints,
transcripts) through a temporary file and a rename, so a file at its final path is always whole.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redqueen.game import RedqueenError

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS config (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agents (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    checkpoint TEXT,
    parent TEXT,
    role TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS matches (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    game_id TEXT NOT NULL,
    seats TEXT NOT NULL,
    seed INTEGER NOT NULL,
    returns TEXT NOT NULL,
    invalid TEXT NOT NULL,
    length INTEGER NOT NULL,
    duration REAL NOT NULL,
    transcript TEXT,
    runner TEXT NOT NULL,
    created REAL NOT NULL,
    roles TEXT
);
CREATE TABLE IF NOT EXISTS ratings (
    id INTEGER PRIMARY KEY,
    agent TEXT NOT NULL,
    system TEXT NOT NULL,
    value REAL NOT NULL,
    sigma REAL,
    games INTEGER NOT NULL,
    step INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS training (
    id INTEGER PRIMARY KEY,
    learner TEXT NOT NULL,
    generation INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    opponent TEXT,
    games INTEGER NOT NULL DEFAULT 0,
    wins REAL NOT NULL DEFAULT 0,
    draws REAL NOT NULL DEFAULT 0,
    losses REAL NOT NULL DEFAULT 0,
    metric TEXT,
    value REAL,
    seconds REAL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS matches_game ON matches (game_id);
CREATE INDEX IF NOT EXISTS ratings_agent ON ratings (agent, system);
CREATE INDEX IF NOT EXISTS training_learner ON training (learner, generation);
"""


class StoreError(RedqueenError, RuntimeError):
    """The store cannot do what was asked (wrong file, other configuration, conflicting agent)."""


@dataclass(frozen=True)
class AgentRecord:
    """A member of the league, as stored."""

    name: str
    kind: str
    spec: dict[str, Any]
    version: int = 0
    checkpoint: str | None = None
    parent: str | None = None
    role: str | None = None
    created: float = field(default_factory=time.time)


@dataclass(frozen=True)
class MatchRecord:
    """One game between league members, as stored. ``seats``, ``returns`` and ``invalid`` are in
    seat order. It has the ``seats``/``returns`` attributes :mod:`redqueen.league.ratings` reads."""

    key: str
    game_id: str
    seats: tuple[str, ...]
    seed: int
    returns: tuple[float, ...]
    invalid: tuple[int, ...]
    length: int
    duration: float
    runner: str
    transcript: str | None = None
    created: float = field(default_factory=time.time)
    roles: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.seats)
        if not self.key:
            raise ValueError("a match needs a non-empty key")
        if n < 1 or len(self.returns) != n or len(self.invalid) != n:
            raise ValueError(
                f"match {self.key!r}: seats, returns and invalid must have one entry per seat, got "
                f"{len(self.seats)}, {len(self.returns)} and {len(self.invalid)}"
            )
        if self.roles is not None and len(self.roles) != n:
            raise ValueError(
                f"match {self.key!r}: give one role per seat, got {len(self.roles)} for {n} seats"
            )
        if not all(math.isfinite(r) for r in self.returns):
            raise ValueError(f"match {self.key!r}: returns must be finite numbers, got {self.returns}")


@dataclass(frozen=True)
class RatingRecord:
    agent: str
    system: str
    value: float
    sigma: float | None
    games: int
    step: int
    created: float = field(default_factory=time.time)


@dataclass(frozen=True)
class TrainingRecord:
    """A learner's chunk against one opponent (``games``/``wins``/``draws``/``losses``) or a metric
    measured after a chunk (``metric``/``value``)."""

    learner: str
    generation: int
    steps: int
    opponent: str | None = None
    games: int = 0
    wins: float = 0.0
    draws: float = 0.0
    losses: float = 0.0
    metric: str | None = None
    value: float | None = None
    seconds: float | None = None
    created: float = field(default_factory=time.time)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, allow_nan=False)


class LeagueStore:
    """The SQLite store of one league (see the module docstring).

    ``LeagueStore(path)`` opens the file, creating it (and its folder) when missing; ``create=False``
    raises :class:`StoreError` when there is no league at ``path``. The connection is in WAL mode;
    every method that writes does so in one transaction. Use it as a context manager or call
    :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True, timeout: float = 30.0):
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise StoreError(f"no league store at {str(self.path)!r}")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif self.path.is_dir():
            raise StoreError(f"{str(self.path)!r} is a folder; give the path of the league's .sqlite file")
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            version = self._schema_version()
            if version is None:
                if not create:
                    raise StoreError(f"{str(self.path)!r} is an SQLite file but not a redqueen league store")
                self._db.execute("PRAGMA journal_mode=WAL")
                with self.transaction() as db:
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            db.execute(statement)
                    db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif version != SCHEMA_VERSION:
                raise StoreError(
                    f"{str(self.path)!r} has store schema {version}; this redqueen reads {SCHEMA_VERSION}"
                )
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process kills
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{str(self.path)!r} is not a redqueen league store: {err}") from None

    def _schema_version(self) -> int | None:
        """The store's schema version, or None for a file without redqueen's tables (read only)."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.OperationalError as err:
            if "no such table" in str(err):
                return None
            raise
        return None if row is None else int(row[0])

    # ---- plumbing --------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT; ROLLBACK on any error)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LeagueStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- config ----------------------------------------------------------------------------------
    def config(self) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM config WHERE id = 1").fetchone()
        return None if row is None else json.loads(row[0])

    def init_config(self, config: dict[str, Any]) -> bool:
        """Write the league's configuration; True when it was written now, False when the store
        already holds this same configuration (a resume). A different one raises StoreError."""
        text = _dumps(config)
        with self.transaction() as db:
            row = db.execute("SELECT value FROM config WHERE id = 1").fetchone()
            if row is None:
                db.execute("INSERT INTO config VALUES (1, ?)", (text,))
                return True
        if json.loads(row[0]) != json.loads(text):
            old, new = json.loads(row[0]), json.loads(text)
            changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            raise StoreError(
                f"{str(self.path)!r} holds a league with another configuration (differs in: "
                f"{', '.join(changed)}); use a new output folder, or the same configuration to resume"
            )
        return False

    # ---- agents ----------------------------------------------------------------------------------
    def add_agent(self, agent: AgentRecord) -> bool:
        """Add a member; True when added, False when the same agent is already there. An agent of the
        same name with another kind, spec or checkpoint raises StoreError."""
        with self.transaction() as db:
            return self._add_agent(db, agent)

    def _add_agent(self, db: sqlite3.Connection, agent: AgentRecord) -> bool:
        row = db.execute("SELECT kind, spec, checkpoint FROM agents WHERE name = ?", (agent.name,)).fetchone()
        if row is not None:
            spec = json.loads(_dumps(agent.spec))  # as stored: tuples come back as lists
            if (row[0], json.loads(row[1]), row[2]) != (agent.kind, spec, agent.checkpoint):
                raise StoreError(
                    f"the league already has an agent named {agent.name!r} with another definition "
                    f"({row[0]}: {row[1]}); give agents unique names"
                )
            return False
        db.execute(
            "INSERT INTO agents (name, kind, spec, version, checkpoint, parent, role, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                agent.name,
                agent.kind,
                _dumps(agent.spec),
                agent.version,
                agent.checkpoint,
                agent.parent,
                agent.role,
                agent.created,
            ),
        )
        return True

    def agents(self) -> list[AgentRecord]:
        """All members, in the order they joined."""
        rows = self._db.execute(
            "SELECT name, kind, spec, version, checkpoint, parent, role, created FROM agents ORDER BY id"
        ).fetchall()
        return [AgentRecord(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5], r[6], r[7]) for r in rows]

    def agent(self, name: str) -> AgentRecord:
        for record in self.agents():
            if record.name == name:
                return record
        raise StoreError(f"the league has no agent named {name!r}")

    # ---- matches ---------------------------------------------------------------------------------
    def record_matches(self, matches: Iterable[MatchRecord], *, state: dict[str, Any] | None = None) -> int:
        """Store games in one transaction (with optional ``state`` updates); keys already stored are
        skipped. Returns the number of games added."""
        matches = list(matches)
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO matches (key, game_id, seats, seed, returns, invalid, length, "
                "duration, transcript, runner, created, roles) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        m.key,
                        m.game_id,
                        _dumps(list(m.seats)),
                        int(m.seed),
                        _dumps([float(r) for r in m.returns]),
                        _dumps([int(i) for i in m.invalid]),
                        int(m.length),
                        float(m.duration),
                        m.transcript,
                        m.runner,
                        m.created,
                        None if m.roles is None else _dumps(list(m.roles)),
                    )
                    for m in matches
                ],
            )
            added = db.total_changes - before
            for key, value in (state or {}).items():
                self._set_state(db, key, value)
        return added

    def match_keys(self, prefix: str = "") -> set[str]:
        """Keys of the stored games (those starting with ``prefix``)."""
        rows = self._db.execute(
            "SELECT key FROM matches WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)
        ).fetchall()
        return {r[0] for r in rows}

    def matches(self) -> list[MatchRecord]:
        """All stored games, in the order they were stored."""
        rows = self._db.execute(
            "SELECT key, game_id, seats, seed, returns, invalid, length, duration, runner, transcript, "
            "created, roles FROM matches ORDER BY id"
        ).fetchall()
        return [
            MatchRecord(
                key=r[0],
                game_id=r[1],
                seats=tuple(json.loads(r[2])),
                seed=r[3],
                returns=tuple(json.loads(r[4])),
                invalid=tuple(json.loads(r[5])),
                length=r[6],
                duration=r[7],
                runner=r[8],
                transcript=r[9],
                created=r[10],
                roles=None if r[11] is None else tuple(json.loads(r[11])),
            )
            for r in rows
        ]

    def count_matches(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM matches").fetchone()[0])

    # ---- ratings and training --------------------------------------------------------------------
    def add_ratings(self, ratings: Sequence[RatingRecord]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO ratings (agent, system, value, sigma, games, step, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.agent, r.system, r.value, r.sigma, r.games, r.step, r.created) for r in ratings],
            )

    def ratings(self, system: str | None = None) -> list[RatingRecord]:
        query = "SELECT agent, system, value, sigma, games, step, created FROM ratings"
        args: tuple[Any, ...] = ()
        if system is not None:
            query, args = query + " WHERE system = ?", (system,)
        rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [RatingRecord(*r) for r in rows]

    def add_training(
        self,
        records: Sequence[TrainingRecord],
        *,
        agents: Sequence[AgentRecord] = (),
        state: dict[str, Any] | None = None,
    ) -> None:
        """Store a learner's chunk in one transaction: its training rows, the agents it adds (its
        snapshot) and its progress ``state``, so a kill leaves either all of them or none."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO training (learner, generation, steps, opponent, games, wins, draws, losses, "
                "metric, value, seconds, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.learner,
                        r.generation,
                        r.steps,
                        r.opponent,
                        r.games,
                        r.wins,
                        r.draws,
                        r.losses,
                        r.metric,
                        r.value,
                        r.seconds,
                        r.created,
                    )
                    for r in records
                ],
            )
            for agent in agents:
                self._add_agent(db, agent)
            for key, value in (state or {}).items():
                self._set_state(db, key, value)

    def training(self, learner: str | None = None) -> list[TrainingRecord]:
        query = (
            "SELECT learner, generation, steps, opponent, games, wins, draws, losses, metric, value, "
            "seconds, created FROM training"
        )
        args: tuple[Any, ...] = ()
        if learner is not None:
            query, args = query + " WHERE learner = ?", (learner,)
        return [TrainingRecord(*r) for r in self._db.execute(query + " ORDER BY id", args).fetchall()]

    # ---- state -----------------------------------------------------------------------------------
    def get_state(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_state(self, key: str, value: Any) -> None:
        with self.transaction() as db:
            self._set_state(db, key, value)

    @staticmethod
    def _set_state(db: sqlite3.Connection, key: str, value: Any) -> None:
        db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, _dumps(value)))


# ---- atomic files ----------------------------------------------------------------------------------


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    return atomic_save(path, lambda tmp: tmp.write_bytes(data))


def atomic_save(path: str | os.PathLike[str], write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` to write a temporary file next to ``path`` (same suffix, so savers that add
    one, like SB3's ``.zip``, keep the name), fsync it and rename it onto ``path``. A reader never
    sees a half-written file at ``path``; on an error the temporary file is removed."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=final.suffix or ".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the final file gets the usual mode
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final
