"""Core War hill evaluation: one warrior against a set of opponents, pMARS-style scores.

``hill(warrior, opponents, rounds=100, seed=0)`` plays ``rounds`` one-on-one rounds of ``warrior``
against each opponent with :func:`redqueen.envs.corewar.mars.battle` (pMARS 0.9.4 semantics, the
94nop settings unless told otherwise) and returns a :class:`HillResult`: per opponent the wins,
ties and losses of ``warrior``, its pMARS score (3 per win, 1 per tie) and its mean score per round
(0 to 3), and the totals.

Placement and reproducibility
    ``warrior`` is warrior 1 (loaded at 0), the opponent warrior 2, placed at random as pMARS
    places it, from pMARS's own generator; the first mover alternates every round. The generator's
    seed is derived from ``seed`` alone, so every opponent faces the same sequence of positions,
    and a result depends only on the inputs and ``seed``: not on ``workers``, nor on the order of
    the opponents.

Inputs
    ``warrior`` and each opponent may be a :class:`~redqueen.envs.corewar.core.Warrior`, a library
    name (:mod:`redqueen.envs.corewar.warriors`), the path of a ``.red`` file, or Redcode text;
    ``opponents`` is a list of those, a mapping name -> one of those, or a folder (all its ``.red``
    files). Unknown names, missing files and Redcode that does not assemble raise errors that say
    which input and why.

Parallelism
    ``workers`` > 1 plays the opponents in a pool of spawned processes (one thread each:
    ``OMP_NUM_THREADS=1``); warriors travel as instruction arrays. The default is
    ``min(cpu count, number of opponents)``. A spawned worker costs a second or so to start (it
    imports numpy and numba and loads the compiled MARS), so for a short hill (the whole library
    at 100 rounds takes about a second in one process) ``workers=1`` is quicker; processes pay off
    for many rounds or many opponents. As with any spawned pool, a script that calls ``hill`` with
    workers needs the ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from redqueen.envs.corewar.core import Settings

__all__ = ["HillResult", "HillRow", "hill"]

_MAX_SEED = 2**31 - 2  # pMARS's generator works on [1, 2^31 - 2]; 0 is a fixed point


@dataclass(frozen=True)
class HillRow:
    """The warrior's record against one opponent."""

    opponent: str
    rounds: int
    wins: int
    ties: int
    losses: int

    @property
    def score(self) -> int:
        """pMARS score of the warrior: 3 per win, 1 per tie."""
        return 3 * self.wins + self.ties

    @property
    def opponent_score(self) -> int:
        return 3 * self.losses + self.ties

    @property
    def mean_score(self) -> float:
        """Score per round, from 0 (lost every round) to 3 (won every round)."""
        return self.score / self.rounds

    def to_dict(self) -> dict[str, Any]:
        return {
            "opponent": self.opponent,
            "rounds": self.rounds,
            "wins": self.wins,
            "ties": self.ties,
            "losses": self.losses,
            "score": self.score,
            "opponent_score": self.opponent_score,
            "mean_score": self.mean_score,
        }


@dataclass(frozen=True)
class HillResult:
    """Outcome of :func:`hill`: one :class:`HillRow` per opponent, in the order given, and totals.

    ``seconds`` and ``workers`` describe the run, not the result, and are left out of ``==``.
    """

    warrior: str
    rows: tuple[HillRow, ...]
    rounds: int
    seed: int
    settings: Settings
    seconds: float = field(default=0.0, compare=False)
    workers: int = field(default=1, compare=False)

    @property
    def opponents(self) -> list[str]:
        return [row.opponent for row in self.rows]

    @property
    def wins(self) -> int:
        return sum(row.wins for row in self.rows)

    @property
    def ties(self) -> int:
        return sum(row.ties for row in self.rows)

    @property
    def losses(self) -> int:
        return sum(row.losses for row in self.rows)

    @property
    def total_rounds(self) -> int:
        return sum(row.rounds for row in self.rows)

    @property
    def score(self) -> int:
        """Total pMARS score over all opponents."""
        return sum(row.score for row in self.rows)

    @property
    def mean_score(self) -> float:
        """Score per round over all opponents (0 to 3): the hill's usual ranking number."""
        return self.score / self.total_rounds

    def row(self, opponent: str) -> HillRow:
        for row in self.rows:
            if row.opponent == opponent:
                return row
        raise KeyError(f"no opponent {opponent!r}; opponents: {', '.join(self.opponents)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "warrior": self.warrior,
            "rounds": self.rounds,
            "seed": self.seed,
            "settings": self.settings.to_dict(),
            "opponents": [row.to_dict() for row in self.rows],
            "total": {
                "rounds": self.total_rounds,
                "wins": self.wins,
                "ties": self.ties,
                "losses": self.losses,
                "score": self.score,
                "mean_score": self.mean_score,
            },
            "seconds": self.seconds,
            "workers": self.workers,
        }

    def _lines(self) -> list[tuple[str, ...]]:
        rows = [
            (r.opponent, str(r.wins), str(r.ties), str(r.losses), str(r.score), f"{r.mean_score:.3f}")
            for r in self.rows
        ]
        rows.append(
            (
                "total",
                str(self.wins),
                str(self.ties),
                str(self.losses),
                str(self.score),
                f"{self.mean_score:.3f}",
            )
        )
        return rows

    def summary(self) -> str:
        """A plain-text table: one line per opponent and a total line."""
        head = ("opponent", "wins", "ties", "losses", "score", "per round")
        lines = self._lines()
        widths = [max(len(line[i]) for line in [head, *lines]) for i in range(len(head))]

        def fmt(cells: Sequence[str]) -> str:
            first = cells[0].ljust(widths[0])
            return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

        rule = "-" * len(fmt(head))
        title = f"{self.warrior}: {self.rounds} rounds against each of {len(self.rows)} opponents"
        title += f" (seed {self.seed})"
        return "\n".join([title, fmt(head), rule, *(fmt(c) for c in lines[:-1]), rule, fmt(lines[-1])])

    def table(self) -> Any:
        """The same table as a :class:`rich.table.Table`."""
        from rich.table import Table

        table = Table(
            title=f"{self.warrior}: {self.rounds} rounds against each opponent (seed {self.seed})",
            show_footer=False,
        )
        table.add_column("opponent")
        for name in ("wins", "ties", "losses", "score", "per round"):
            table.add_column(name, justify="right")
        lines = self._lines()
        for i, line in enumerate(lines):
            table.add_row(*line, end_section=i == len(lines) - 2)
        return table

    def __str__(self) -> str:
        return self.summary()


def pmars_seed(seed: int) -> int:
    """The pMARS generator seed, in [1, 2^31 - 2], that :func:`hill` uses for ``seed`` (any int >= 0)."""
    state = np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)[0]
    return int(state % _MAX_SEED) + 1


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _single_thread() -> None:
    """Worker initialiser: one OpenMP/MKL/numba/OpenBLAS thread."""
    for name in _THREAD_VARIABLES:
        os.environ[name] = "1"


@contextmanager
def _single_thread_env() -> Iterator[None]:
    """Set the thread variables to 1 in this process while the workers start, then restore them."""
    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    _single_thread()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _pack(warrior: Any) -> tuple[np.ndarray, int, int | None]:
    return (np.asarray(warrior.instructions, dtype=np.int64), int(warrior.start), warrior.pin)


def _play(job: tuple[Any, ...]) -> tuple[int, int, int]:
    """One opponent: (wins, ties, losses) of warrior 1. Runs in a worker or in process."""
    from redqueen.envs.corewar.core import Warrior
    from redqueen.envs.corewar.mars import battle

    mine, theirs, rounds, seed, settings = job
    warriors = [Warrior(code, start=start, pin=pin, settings=settings) for code, start, pin in (mine, theirs)]
    result = battle(warriors, rounds=rounds, seed=seed, settings=settings)
    return result.wins[0], result.ties, result.losses[0]


def _cpu_count() -> int:
    """CPUs this process may use (the affinity mask where there is one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def hill(
    warrior: Any,
    opponents: Any,
    rounds: int = 100,
    seed: int = 0,
    settings: Settings | None = None,
    workers: int | None = None,
) -> HillResult:
    """Play ``warrior`` against every opponent, ``rounds`` rounds each (see the module docstring).

    ``settings``: a :class:`~redqueen.envs.corewar.core.Settings` (default: 94nop). ``workers``:
    processes (default ``min(cpu count, number of opponents)``; 1 plays in this process).
    """
    from redqueen.envs.corewar.core import Settings
    from redqueen.envs.corewar.warriors import resolve_many

    rounds = _check_int("rounds", rounds, 1)
    seed = _check_int("seed", seed, 0)
    settings = Settings() if settings is None else settings
    if not isinstance(settings, Settings):
        raise TypeError(f"settings must be a corewar Settings, got {type(settings).__name__}")
    if settings.warriors != 2:
        settings = settings.with_warriors(2)
    started = time.perf_counter()
    if warrior is None or isinstance(warrior, list | tuple | dict):
        raise TypeError("hill() takes one warrior first (then a list or mapping of opponents)")
    resolved = resolve_many([warrior], settings)
    if len(resolved) != 1:
        raise TypeError(f"hill() takes one warrior first, got a folder of {len(resolved)}")
    ((name, mine),) = resolved.items()
    theirs = resolve_many(opponents, settings)
    if not theirs:
        raise ValueError("hill() needs at least one opponent")
    code_seed = pmars_seed(seed)
    jobs = [(_pack(mine), _pack(w), rounds, code_seed, settings) for w in theirs.values()]
    if workers is None:
        workers = min(_cpu_count(), len(jobs))
    workers = min(_check_int("workers", workers, 1), len(jobs))
    if workers == 1:
        outcomes = [_play(job) for job in jobs]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        with (
            _single_thread_env(),  # spawned workers inherit it before they import numpy/numba
            ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_single_thread) as pool,
        ):
            outcomes = list(pool.map(_play, jobs))
    rows = tuple(
        HillRow(opponent, rounds, *outcome) for opponent, outcome in zip(theirs, outcomes, strict=True)
    )
    return HillResult(
        warrior=name,
        rows=rows,
        rounds=rounds,
        seed=seed,
        settings=settings,
        seconds=time.perf_counter() - started,
        workers=workers,
    )
