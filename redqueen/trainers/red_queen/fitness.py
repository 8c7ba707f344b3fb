"""Fitness, behaviour descriptors and generality of Core War warriors, and the pool that plays them.

Everything here plays battles with the public MARS of :mod:`redqueen.envs.corewar` (pMARS 0.9.4
semantics): :func:`~redqueen.envs.corewar.battle` for the fitness and generality battles and
:class:`~redqueen.envs.corewar.Mars` for the behaviour probe.

Fitness modes (:data:`FITNESS_MODES`)
    ``"drq"`` (Digital Red Queen's): one free-for-all battle per seed with every warrior in one core,
    the candidate as warrior 0 (loaded at address 0, so lowest, and moving first); the others are
    placed by pMARS's generator. Every living warrior earns ``1 / n_alive`` per cycle and the credit
    is scaled by ``N / T`` (N warriors, T = ``settings.cycles``), so a warrior alone for the whole
    battle earns N, everyone surviving everything earns 1 each, and a warrior that dies at once
    earns 0. The fitness is the candidate's credit averaged over the seeds (DRQ: 20).

    ``"pairwise"``: the candidate against each opponent alone (1-vs-1, pMARS's placement and
    alternating first mover, ``rounds`` rounds), scored as pMARS does (3 a win, 1 a tie); the fitness
    is the mean score per round over the opponents and rounds (0 to 3).

Cycles from death steps (``drq``)
    :func:`~redqueen.envs.corewar.battle` reports the step (executed instruction, from 1) on which
    each warrior died. Cycle t is every living warrior's t-th turn: a warrior that died on its k-th
    turn was alive at the end of cycles 1 .. k-1 (DRQ counts a warrior alive after a cycle if it
    still has processes). :func:`death_cycles` replays pMARS's rotation over the death steps to find
    each warrior's turn: warriors move in index order from the round's first mover, and when one
    dies the warrior after it loses its next turn to the one after that (pMARS's ``continue`` into
    ``while (--cycle)``; :class:`~redqueen.envs.corewar.Mars` shows the same order). The credits are
    then sums of ``1 / n_alive`` over cycle segments, kept as exact integers (over the common
    denominator ``lcm(1..N)``) so ties are exact.

    One departure from DRQ's simulator, which plays every battle to T cycles: pMARS ends a round
    when one warrior is left, and that warrior is credited with every remaining cycle (DRQ's would
    also record it dying later by its own hand). A warrior still alive after T cycles (pMARS's
    rescaled budget can give a survivor a turn more) counts as alive for all T.

Behaviour descriptors (:func:`probe`)
    Measured on the warrior alone in an empty core for ``cycles`` cycles (default 8,000), stepping
    one instruction at a time: ``tsp`` is the number of processes it spawned (SPLs that added a
    process; DRQ's "total spawned processes") and ``mc`` its core coverage, the number of cells it
    wrote (its own code included; alone in the core, the owner array of the MARS records every
    cell it ever wrote). DRQ measures coverage as the addresses its processes visited, inside the
    fitness battles; the MARS exposes no per-warrior visit counter, and a solo probe makes the
    descriptor a property of the program rather than of its opponents. A warrior with no SPL can
    never execute one (opcodes are only copied), so its probe runs in one call.

Generality (:func:`generality`)
    The fraction of a held-out set the warrior *defeats or ties* 1-vs-1 over ``rounds`` rounds:
    an opponent counts when the warrior's pMARS score against it is at least the opponent's, i.e.
    ``wins >= losses``. The battles are :func:`redqueen.evaluation.hill`'s (same placement and
    seed), so ``redqueen corewar hill`` shows the same rows.

Parallelism (:class:`BattlePool`)
    Battles run in a pool of spawned processes (one thread each: ``OMP_NUM_THREADS=1``), jobs in a
    fixed order, results summed as integers, so the results do not depend on the number of workers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from redqueen.envs.corewar.core import OP, Settings, Warrior
from redqueen.evaluation.hill import _single_thread, _single_thread_env, pmars_seed

__all__ = [
    "FITNESS_MODES",
    "BattlePool",
    "Evaluation",
    "Evaluator",
    "GeneralityResult",
    "Opponent",
    "OpponentRecord",
    "death_cycles",
    "drq_credits",
    "generality",
    "probe",
]

FITNESS_MODES = ("drq", "pairwise")
_SPL = OP["SPL"]

Packed = tuple[np.ndarray, int, int | None]


# ---- cycles and credits ------------------------------------------------------------------------------


def death_cycles(death_steps: Sequence[int], first: int = 0) -> list[int | None]:
    """The cycle each warrior died in (its own turn number, from 1), or None for a survivor, from one
    round's death steps (``BattleResult.death_steps[r]``: the step it died on, -1 if it survived) and
    the round's first mover. Raises ValueError when the steps cannot come from pMARS's rotation."""
    steps = [int(s) for s in death_steps]
    n = len(steps)
    if n == 0:
        raise ValueError("no warriors")
    if not 0 <= int(first) < n:
        raise ValueError(f"first must be in [0, {n - 1}], got {first}")
    ring = list(range(n))
    turns = [0] * n
    out: list[int | None] = [None] * n
    pos, done = int(first), 0
    for step, w in sorted((s, w) for w, s in enumerate(steps) if s >= 0):
        size = len(ring)
        count = step - done  # steps from the next mover up to and including the fatal one
        if count < 1 or size == 0:
            raise ValueError(f"death steps {steps} do not fit pMARS's rotation")
        full, extra = divmod(count, size)
        for k in range(size):
            turns[ring[(pos + k) % size]] += full + (1 if k < extra else 0)
        last = (pos + count - 1) % size
        if ring[last] != w:
            raise ValueError(
                f"death steps {steps}: step {step} is warrior {ring[last]}'s turn, not warrior {w}'s"
            )
        out[w] = turns[w]
        ring.pop(last)
        done = step
        if len(ring) < 2:
            remaining = [x for x in range(n) if out[x] is None and x != w]
            if len(ring) == 1 and any(steps[x] >= 0 for x in remaining):
                raise ValueError(f"death steps {steps}: a death after the round ended")
            break
        pos = (last + 1) % len(ring)  # the warrior after the dead one loses its next turn
    return out


def _credit_units(cycles_of_death: Sequence[int | None], cycles: int) -> tuple[list[int], int]:
    """Per warrior ``sum over cycles of alive / n_alive`` times ``lcm(1..N)`` (an exact integer), and
    that multiplier."""
    n = len(cycles_of_death)
    unit = math.lcm(*range(1, n + 1))
    # alive through cycle t (at its end) iff t < death cycle; a survivor or a death after T: all T
    ends = [cycles if d is None or d > cycles else d - 1 for d in cycles_of_death]
    sums = [0] * n
    start = 0
    for end in sorted(set(ends)):
        if end <= start:
            continue
        alive = [w for w in range(n) if ends[w] >= end]
        share = unit // len(alive)
        for w in alive:
            sums[w] += (end - start) * share
        start = end
    return sums, unit


def drq_credits(death_steps: Sequence[int], cycles: int, first: int = 0) -> list[float]:
    """DRQ's credit of every warrior in one round: ``N / T * sum_t alive_i(t) / n_alive(t)`` over
    T = ``cycles`` cycles (see the module docstring)."""
    sums, unit = _credit_units(death_cycles(death_steps, first), int(cycles))
    n = len(sums)
    return [n * s / (cycles * unit) for s in sums]


# ---- behaviour probe ---------------------------------------------------------------------------------

_MARS: dict[Settings, Any] = {}


def probe(warrior: Warrior, cycles: int = 8000, settings: Settings | None = None) -> tuple[int, int]:
    """``(tsp, mc)`` of ``warrior`` alone in the core for ``cycles`` cycles: processes it spawned and
    cells it wrote, its own code included (see the module docstring)."""
    from redqueen.envs.corewar.mars import Mars

    settings = replace(settings or Settings(), cycles=int(cycles), warriors=1)
    mars = _MARS.get(settings)
    if mars is None:
        mars = _MARS[settings] = Mars(settings, track_owner=True)
    mars.load([warrior], [0], reset_pspace=True)
    spawned = 0
    if np.any(warrior.instructions[:, 0] == _SPL):
        prev = 1
        for _ in range(int(cycles)):
            mars.run(1)
            now = mars.processes[0]
            if now > prev:
                spawned += 1
            prev = now
            if mars.done:
                break
    else:
        mars.run()
    return spawned, int(np.count_nonzero(mars.owner == 0))


# ---- jobs (run in a worker or in process) ------------------------------------------------------------


def _pack(warrior: Warrior) -> Packed:
    return (np.asarray(warrior.instructions, dtype=np.int64), int(warrior.start), warrior.pin)


def _unpack(packed: Packed, settings: Settings) -> Warrior:
    code, start, pin = packed
    return Warrior(code, start=start, pin=pin, settings=settings)


def _job_drq(job: tuple[Any, ...]) -> list[int]:
    """Credit units of every warrior summed over some seeds of free-for-all battles."""
    from redqueen.envs.corewar.mars import battle

    packed, seeds, settings = job
    warriors = [_unpack(p, settings) for p in packed]
    totals = [0] * len(warriors)
    for seed in seeds:
        result = battle(warriors, rounds=1, seed=seed, settings=settings)
        sums, _ = _credit_units(death_cycles(result.death_steps[0], result.first_movers[0]), settings.cycles)
        totals = [a + b for a, b in zip(totals, sums, strict=True)]
    return totals


def _job_pairwise(job: tuple[Any, ...]) -> tuple[int, int, int]:
    """(wins, ties, losses) of warrior 0 in a 1-vs-1 battle."""
    from redqueen.envs.corewar.mars import battle

    mine, theirs, rounds, seed, settings = job
    result = battle(
        [_unpack(mine, settings), _unpack(theirs, settings)], rounds=rounds, seed=seed, settings=settings
    )
    return result.wins[0], result.ties, result.losses[0]


def _job_probe(job: tuple[Any, ...]) -> tuple[int, int]:
    packed, cycles, settings = job
    return probe(_unpack(packed, settings), cycles, settings)


def _job_hill(job: tuple[Any, ...]) -> tuple[int, int, int]:
    """One held-out opponent through :func:`redqueen.evaluation.hill` (in process)."""
    from redqueen.evaluation.hill import hill

    mine, theirs, rounds, seed, settings = job
    result = hill(_unpack(mine, settings), {"opponent": _unpack(theirs, settings)}, rounds, seed, settings, 1)
    row = result.rows[0]
    return row.wins, row.ties, row.losses


def _call(job: tuple[Callable[[Any], Any], Any]) -> Any:
    function, payload = job
    return function(payload)


# ---- the pool ----------------------------------------------------------------------------------------


def cpu_count() -> int:
    """CPUs this process may use (its affinity mask where there is one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class BattlePool:
    """Runs jobs in order, in this process (``workers=1``) or in a pool of spawned processes that
    lives until :meth:`close` (a context manager). Workers start with one thread each."""

    def __init__(self, workers: int | None = None):
        workers = cpu_count() if workers is None else int(workers)
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self._pool: Any = None

    def _executor(self) -> Any:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("spawn")
            with _single_thread_env():  # the children read it before they import numpy and numba
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=context, initializer=_single_thread
                )
        return self._pool

    def map(self, jobs: Sequence[tuple[Callable[[Any], Any], Any]]) -> list[Any]:
        """``[function(payload) for function, payload in jobs]``, in that order."""
        if self.workers == 1 or len(jobs) <= 1:
            return [_call(job) for job in jobs]
        return list(self._executor().map(_call, jobs))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> BattlePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- evaluations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpponentRecord:
    """How a candidate did against one opponent in its fitness evaluation.

    ``drq``: ``score`` and ``opponent_score`` are the two warriors' mean credits in the same
    free-for-all battles; ``pairwise``: mean pMARS points per round (0 to 3) and the 1-vs-1 wins,
    ties and losses. ``beats``: the candidate defeated or tied it (credit at least the opponent's,
    or wins >= losses)."""

    name: str
    role: str
    score: float
    opponent_score: float
    beats: bool
    wins: int | None = None
    ties: int | None = None
    losses: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "role": self.role,
            "score": self.score,
            "opponent_score": self.opponent_score,
            "beats": self.beats,
        }
        if self.wins is not None:
            out.update(wins=self.wins, ties=self.ties, losses=self.losses)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OpponentRecord:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class Evaluation:
    """A candidate's fitness against an opponent set, its opponents' records and its descriptors
    (``tsp``, ``mc``, ``uo`` unique opcodes, ``pl`` program length)."""

    fitness: float
    mode: str
    opponents: tuple[OpponentRecord, ...]
    descriptors: dict[str, int] = field(default_factory=dict)

    def beats_all(self, role: str = "champion") -> bool:
        """True when the candidate defeated or tied every opponent of ``role`` (no such opponent: True)."""
        return all(r.beats for r in self.opponents if r.role == role)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fitness": self.fitness,
            "mode": self.mode,
            "opponents": [r.to_dict() for r in self.opponents],
            "descriptors": dict(self.descriptors),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        return cls(
            fitness=float(data["fitness"]),
            mode=str(data["mode"]),
            opponents=tuple(OpponentRecord.from_dict(r) for r in data["opponents"]),
            descriptors={str(k): int(v) for k, v in data.get("descriptors", {}).items()},
        )


@dataclass(frozen=True)
class Opponent:
    """A warrior of the opponent set: its name, program and ``role`` (``"initial"`` or ``"champion"``:
    :meth:`Evaluation.beats_all` looks at the champions)."""

    name: str
    warrior: Warrior
    role: str


class Evaluator:
    """Plays candidates against an opponent set (see the module docstring).

    ``battles``: seeds per evaluation (``drq``) or rounds per opponent (``pairwise``);
    ``battle_seed``: where the seeds start (every candidate sees the same placements);
    ``probe_cycles``: length of the behaviour probe (0: no probe, ``tsp``/``mc`` are 0).
    """

    def __init__(
        self,
        settings: Settings,
        mode: str = "drq",
        battles: int = 20,
        battle_seed: int = 0,
        probe_cycles: int = 8000,
        pool: BattlePool | None = None,
    ):
        if mode not in FITNESS_MODES:
            raise ValueError(f"fitness mode must be one of {', '.join(FITNESS_MODES)}, got {mode!r}")
        if battles < 1:
            raise ValueError(f"battles must be >= 1, got {battles}")
        self.settings, self.mode, self.battles = settings, mode, int(battles)
        self.battle_seed, self.probe_cycles = int(battle_seed), int(probe_cycles)
        self.pool = pool or BattlePool(1)

    def _seeds(self) -> list[int]:
        return [pmars_seed(self.battle_seed + k) for k in range(self.battles)]

    def _jobs(self, warrior: Warrior, opponents: Sequence[Opponent]) -> list[tuple[Any, Any]]:
        settings = self.settings
        mine = _pack(warrior)
        jobs: list[tuple[Any, Any]] = []
        if self.probe_cycles > 0:
            jobs.append((_job_probe, (mine, self.probe_cycles, settings)))
        if self.mode == "drq":
            packed = [mine, *(_pack(o.warrior) for o in opponents)]
            seeds = self._seeds()
            chunks = min(len(seeds), max(1, self.pool.workers))
            for k in range(chunks):
                jobs.append((_job_drq, (packed, seeds[k::chunks], settings.with_warriors(len(packed)))))
        else:
            seed = pmars_seed(self.battle_seed)
            for o in opponents:
                jobs.append((_job_pairwise, (mine, _pack(o.warrior), self.battles, seed, settings)))
        return jobs

    def _finish(self, warrior: Warrior, opponents: Sequence[Opponent], results: Sequence[Any]) -> Evaluation:
        results = list(results)
        descriptors = {
            "uo": len({int(op) for op in warrior.instructions[:, 0]}),
            "pl": len(warrior),
            "tsp": 0,
            "mc": 0,
        }
        if self.probe_cycles > 0:
            descriptors["tsp"], descriptors["mc"] = results.pop(0)
        records = []
        if self.mode == "drq":
            n = len(opponents) + 1
            sums = [sum(column) for column in zip(*results, strict=True)]
            scale = n / (self.settings.cycles * math.lcm(*range(1, n + 1)) * self.battles)
            fitness = sums[0] * scale
            for j, o in enumerate(opponents, start=1):
                records.append(OpponentRecord(o.name, o.role, fitness, sums[j] * scale, sums[0] >= sums[j]))
        else:
            scores = []
            for o, (w, t, lost) in zip(opponents, results, strict=True):
                score = (3 * w + t) / self.battles
                scores.append(score)
                records.append(
                    OpponentRecord(
                        o.name, o.role, score, (3 * lost + t) / self.battles, w >= lost, w, t, lost
                    )
                )
            fitness = float(np.mean(scores)) if scores else 0.0
        return Evaluation(float(fitness), self.mode, tuple(records), descriptors)

    def evaluate(self, warriors: Sequence[Warrior], opponents: Sequence[Opponent]) -> list[Evaluation]:
        """One :class:`Evaluation` per warrior (battles of all of them in one pool pass)."""
        if self.mode == "pairwise" and not opponents:
            raise ValueError("the pairwise fitness needs at least one opponent")
        jobs, spans = [], []
        for warrior in warriors:
            mine = self._jobs(warrior, opponents)
            spans.append((len(jobs), len(jobs) + len(mine)))
            jobs.extend(mine)
        results = self.pool.map(jobs)
        return [self._finish(w, opponents, results[a:b]) for w, (a, b) in zip(warriors, spans, strict=True)]


# ---- generality --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneralityResult:
    """The warrior's 1-vs-1 record against each held-out warrior and the fraction it defeated or tied
    (``wins >= losses`` over ``rounds`` rounds)."""

    fraction: float
    rounds: int
    seed: int
    rows: tuple[dict[str, Any], ...]

    THRESHOLD = "defeated or tied: wins >= losses over the rounds (pMARS score at least the opponent's)"

    @property
    def beaten(self) -> list[str]:
        return [row["opponent"] for row in self.rows if row["beats"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "fraction": self.fraction,
            "rounds": self.rounds,
            "seed": self.seed,
            "threshold": self.THRESHOLD,
            "opponents": [dict(r) for r in self.rows],
        }


def _generality_jobs(
    warrior: Warrior, held_out: Mapping[str, Warrior], rounds: int, seed: int, settings: Settings
) -> list[tuple[Any, Any]]:
    mine = _pack(warrior)
    return [(_job_hill, (mine, _pack(w), rounds, seed, settings)) for w in held_out.values()]


def _generality_result(
    held_out: Mapping[str, Warrior], results: Sequence[tuple[int, int, int]], rounds: int, seed: int
) -> GeneralityResult:
    rows = tuple(
        {"opponent": name, "wins": w, "ties": t, "losses": lost, "beats": w >= lost}
        for name, (w, t, lost) in zip(held_out, results, strict=True)
    )
    fraction = sum(r["beats"] for r in rows) / len(rows) if rows else 0.0
    return GeneralityResult(fraction, rounds, seed, rows)


def generality(
    warrior: Any,
    held_out: Any,
    rounds: int = 100,
    seed: int = 0,
    settings: Settings | None = None,
    workers: int | None = 1,
) -> GeneralityResult:
    """The fraction of ``held_out`` (a folder of ``.red`` files, a list or a mapping of warriors, as
    :func:`redqueen.evaluation.hill` takes) that ``warrior`` defeats or ties 1-vs-1 over ``rounds``
    rounds (see the module docstring)."""
    from redqueen.envs.corewar.warriors import resolve, resolve_many

    settings = settings or Settings()
    mine = resolve(warrior, settings)
    opponents = resolve_many(held_out, settings)
    if not opponents:
        raise ValueError("the held-out set has no warriors")
    with BattlePool(workers or cpu_count()) as pool:
        results = pool.map(_generality_jobs(mine, opponents, int(rounds), int(seed), settings))
    return _generality_result(opponents, results, int(rounds), int(seed))
