"""The Digital Red Queen loop: rounds of MAP-Elites, each against all earlier champions.

Round t = 1..T:

1. The opponents are the initial set (default: the library's imp) plus the champions of the earlier
   rounds (all of them, or the last ``last_k``), named ``round_001``, ``round_002``, ...
2. A fresh MAP-Elites archive over two behaviour descriptors (default ``tsp`` x ``mc`` on DRQ's 6x6
   grid, see :mod:`redqueen.trainers.red_queen.fitness`) is filled: first ``n_init`` create requests
   and (``warmup``) the initial opponents and earlier champions as candidates; then, for each of
   ``iterations`` iterations, ``batch`` requests, each a create with probability ``new_fraction``
   (or while the archive is empty) and otherwise a mutation of an elite drawn uniformly from the
   archive. Every text goes through the :class:`~redqueen.trainers.red_queen.generators.Intake`;
   the accepted warriors of an iteration are evaluated together (in parallel) and placed in order.
   A candidate takes a cell that is empty or holds a worse elite; with ``require_beats`` (default)
   an elite that defeats or ties every earlier champion in its fitness battles outranks one that
   does not, whatever their fitness.
3. The champion is the archive's best. While no elite beats or ties every earlier champion, the round
   goes on past ``iterations``, up to ``max_iterations``; if none does by then, the best elite is the
   champion anyway and the round's record says so (``beats_all = false``). With ``stop_fitness`` a
   round ends as soon as its champion reaches that fitness.

Randomness: request k of iteration i of round t draws from ``SeedSequence([seed, t, i, k])``, and the
choices of an iteration from ``SeedSequence([seed, t, i])``; battles use fixed seeds. So a run depends
only on its config (not on ``workers``), and a round replayed after a crash is the same round.

Output folder (``out``), written as rounds finish::

    config.toml                 the config, as read
    run.json                    the finished rounds (written last: a round is finished once listed)
    round_001/champion.red      the champion's source
    round_001/archive.json      every elite: cell, source, fitness, descriptors, battles
    round_001/scores.json       the champion's battles, generality, intake counts, fitness and
                                coverage after every iteration
    round_001/generations.jsonl one line per generated text: accepted or why not

Resuming: running the same config into the same folder continues after the last finished round (a
round that was interrupted is played again from its start, with the same result). A folder made by a
different config is refused (the message lists the keys that differ).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any

import numpy as np

from redqueen.agents.base import AgentError
from redqueen.envs.corewar.core import Warrior
from redqueen.game import RedqueenError
from redqueen.trainers.red_queen.config import ConfigError, RedQueenConfig, config_toml
from redqueen.trainers.red_queen.fitness import (
    BattlePool,
    Evaluation,
    Evaluator,
    GeneralityResult,
    Opponent,
    _generality_jobs,
    _generality_result,
)
from redqueen.trainers.red_queen.generators import Generator, Intake, Parent, Request, extract_redcode

__all__ = [
    "Archive",
    "Elite",
    "RedQueenError",
    "RoundRecord",
    "RunResult",
    "bin_index",
    "champions",
    "load_run",
    "make_generator",
    "run_red_queen",
]

RUN_VERSION = 1
MAX_BACKEND_FAILURES = 5
"""A generator whose backend fails this many requests in a row stops the run (it can be resumed)."""


class RedQueenError(RedqueenError, RuntimeError):
    """A Red Queen run that cannot go on (a failing backend, a round with no warrior at all, a folder
    from another run)."""


# ---- archive -----------------------------------------------------------------------------------------


def bin_index(value: int, edges: Sequence[int]) -> int:
    """The first bin whose upper edge ``value`` is below; ``len(edges)`` above all of them."""
    for i, edge in enumerate(edges):
        if value < edge:
            return i
    return len(edges)


@dataclass
class Elite:
    """A warrior in an archive: its program, evaluation, cell and where it came from."""

    id: str
    source: str
    warrior: Warrior
    evaluation: Evaluation
    cell: tuple[int, int]
    origin: str
    """``"create"``, ``"mutate"``, or ``"warmup"`` (an initial opponent or earlier champion)."""
    parent: str | None
    iteration: int
    name: str | None = None
    """The warmup warrior's name (``imp``, ``round_002``...), else None."""

    @property
    def fitness(self) -> float:
        return self.evaluation.fitness

    @property
    def beats_all(self) -> bool:
        """It defeated or tied every earlier champion in its fitness battles."""
        return self.evaluation.beats_all("champion")

    def rank(self, require_beats: bool) -> tuple[bool, float]:
        return (self.beats_all or not require_beats, self.fitness)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cell": list(self.cell),
            "fitness": self.fitness,
            "beats_all": self.beats_all,
            "origin": self.origin,
            "name": self.name,
            "parent": self.parent,
            "iteration": self.iteration,
            "length": len(self.warrior),
            "descriptors": dict(self.evaluation.descriptors),
            "source": self.source,
            "evaluation": self.evaluation.to_dict(),
        }


class Archive:
    """A MAP-Elites grid over two descriptor axes (``bins[axis]``: upper bin edges)."""

    def __init__(self, axes: Sequence[str], bins: Mapping[str, Sequence[int]], require_beats: bool = True):
        self.axes = tuple(axes)
        self.edges = tuple(tuple(bins[a]) for a in self.axes)
        self.shape = tuple(len(e) + 1 for e in self.edges)
        self.require_beats = require_beats
        self.cells: dict[tuple[int, int], Elite] = {}

    def cell_of(self, descriptors: Mapping[str, int]) -> tuple[int, int]:
        i, j = (bin_index(int(descriptors[a]), e) for a, e in zip(self.axes, self.edges, strict=True))
        return i, j

    def place(self, elite: Elite) -> bool:
        """Put ``elite`` in its cell if the cell is empty or holds a lower-ranked elite."""
        current = self.cells.get(elite.cell)
        if current is None or elite.rank(self.require_beats) > current.rank(self.require_beats):
            self.cells[elite.cell] = elite
            return True
        return False

    def sample(self, rng: np.random.Generator) -> Elite:
        keys = sorted(self.cells)
        return self.cells[keys[int(rng.integers(len(keys)))]]

    def best(self) -> Elite | None:
        """The highest-ranked elite (the earliest found among equals)."""
        elites = sorted(self.cells.values(), key=lambda e: e.iteration)
        return max(elites, key=lambda e: e.rank(self.require_beats), default=None)

    @property
    def coverage(self) -> int:
        return len(self.cells)

    def members(self) -> list[Elite]:
        return [self.cells[k] for k in sorted(self.cells)]

    def fitness_grid(self) -> list[list[float | None]]:
        grid: list[list[float | None]] = [[None] * self.shape[1] for _ in range(self.shape[0])]
        for (i, j), elite in self.cells.items():
            grid[i][j] = elite.fitness
        return grid

    def to_dict(self) -> dict[str, Any]:
        return {
            "axes": list(self.axes),
            "edges": [list(e) for e in self.edges],
            "shape": list(self.shape),
            "coverage": self.coverage,
            "fitness_grid": self.fitness_grid(),
            "elites": [e.to_dict() for e in self.members()],
        }


# ---- records -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundRecord:
    """A finished round as ``run.json`` keeps it."""

    round: int
    champion: str
    fitness: float
    beats_all: bool
    cell: tuple[int, int]
    descriptors: dict[str, int]
    coverage: int
    iterations: int
    evaluations: int
    accepted: int
    rejected: int
    generality: float | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "champion": self.champion,
            "fitness": self.fitness,
            "beats_all": self.beats_all,
            "cell": list(self.cell),
            "descriptors": dict(self.descriptors),
            "coverage": self.coverage,
            "iterations": self.iterations,
            "evaluations": self.evaluations,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "generality": self.generality,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoundRecord:
        values = {k: data[k] for k in cls.__dataclass_fields__}
        values["cell"] = tuple(values["cell"])
        return cls(**values)


@dataclass
class RunResult:
    """What :func:`run_red_queen` returns: the output folder and every finished round."""

    out: Path
    rounds: list[RoundRecord]
    resumed_from: int = 0
    """Rounds that were already finished when this call started."""

    def champion_sources(self) -> dict[str, str]:
        return {
            f"round_{r.round:03d}": (self.out / f"round_{r.round:03d}" / "champion.red").read_text()
            for r in self.rounds
        }

    @property
    def fitness(self) -> list[float]:
        return [r.fitness for r in self.rounds]

    @property
    def generality(self) -> list[float | None]:
        return [r.generality for r in self.rounds]


# ---- files -------------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    from redqueen.league.store import atomic_save

    atomic_save(path, lambda tmp: tmp.write_text(text))


def _write_json(path: Path, data: Any) -> None:
    _write(path, json.dumps(data, indent=1) + "\n")


def _differences(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if isinstance(x, Mapping) and isinstance(y, Mapping):
            keys += _differences(x, y, f"{prefix}{key}.")
        elif x != y:
            keys.append(f"{prefix}{key}")
    return keys


def _load_finished(out: Path, config: RedQueenConfig) -> list[RoundRecord]:
    path = out / "run.json"
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise RedQueenError(f"{path} cannot be read ({err}); move the folder away to start again") from None
    theirs = data.get("config", {})
    differ = _differences(theirs, config.identity())
    if differ:
        raise ConfigError(
            f"{out} holds a run made with another config (different: {', '.join(differ)}); "
            "use another folder, or the config it was made with"
        )
    return [RoundRecord.from_dict(r) for r in data.get("rounds", [])]


# ---- the generator from a config ---------------------------------------------------------------------


@contextmanager
def make_generator(spec: Mapping[str, Any]) -> Iterator[Generator]:
    """The generator a config's ``[generator]`` table describes (a context manager: a
    ``backend = "server"`` generator runs a llama.cpp server until the block ends)."""
    from redqueen.trainers.red_queen.generators import LLMGenerator, MutationGenerator

    params = dict(spec)
    kind = params.pop("type", "mutation")
    if kind == "mutation":
        yield MutationGenerator(**params)
        return
    backend_kind = params.pop("backend", "openai")
    feedback = bool(params.pop("feedback", False))
    n = int(params.pop("n", 1))
    reference = params.pop("reference", None)
    model = str(params.pop("model"))
    options = {k: params.pop(k) for k in ("max_tokens", "temperature", "top_p") if k in params}
    options.setdefault("max_tokens", 384)
    if backend_kind == "llamacpp":
        from redqueen.agents.llm.llamacpp import LlamaCppBackend

        backend: Any = LlamaCppBackend(
            model, mode=params.pop("mode", "completion"), n_ctx=int(params.pop("n_ctx", 4096)), **options
        )
        yield LLMGenerator(backend, feedback=feedback, n=n, reference=reference)
        return
    from redqueen.agents.llm import OpenAIBackend

    mode = params.pop("mode", "chat" if backend_kind == "openai" else "completion")
    timeout = float(params.pop("timeout", 120.0))
    if backend_kind == "openai":
        backend = OpenAIBackend(model, params.pop("base_url", None), mode=mode, timeout=timeout, **options)
        yield LLMGenerator(backend, feedback=feedback, n=n, reference=reference)
        return
    from redqueen.agents.llm.llamacpp import LlamaCppServer

    with LlamaCppServer(
        model, threads=int(params.pop("threads", 2)), n_ctx=int(params.pop("n_ctx", 4096))
    ) as server:
        backend = OpenAIBackend("local", server.url, mode=mode, timeout=timeout, **options)
        yield LLMGenerator(backend, feedback=feedback, n=n, reference=reference)


# ---- the loop ----------------------------------------------------------------------------------------


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, np.uint64)[0] % (2**63))


def _program_id(warrior: Warrior) -> str:
    return sha256(warrior.load_file().encode()).hexdigest()[:16]


def _excerpt(text: Any, limit: int = 160) -> str:
    if not isinstance(text, str):
        return repr(text)[:limit]
    return text[:limit]


def _feedback_lines(evaluation: Evaluation) -> tuple[str, ...]:
    mode = evaluation.mode
    lines = [f"fitness {evaluation.fitness:.3f} ({'DRQ credit' if mode == 'drq' else 'points per round'})"]
    for r in evaluation.opponents:
        verdict = "defeated or tied" if r.beats else "lost"
        if r.wins is not None:
            lines.append(f"against {r.name}: {r.wins} won, {r.ties} tied, {r.losses} lost ({verdict})")
        else:
            lines.append(
                f"against {r.name}: credit {r.score:.2f} against its {r.opponent_score:.2f} ({verdict})"
            )
    return tuple(lines)


class _Round:
    """One round's state (archive, cache, counters, log)."""

    def __init__(
        self,
        number: int,
        config: RedQueenConfig,
        generator: Generator,
        evaluator: Evaluator,
        opponents: list[Opponent],
        warmups: list[tuple[str, str, Warrior]],
        folder: Path,
        on_iteration: Callable[[_Round], None],
    ):
        self.t, self.config, self.generator, self.evaluator = number, config, generator, evaluator
        self.opponents, self.warmups, self.folder = opponents, warmups, folder
        self.on_iteration = on_iteration
        self.archive = Archive(config.axes, config.bins, config.require_beats)
        self.intake = Intake(config.settings)
        self.cache: dict[str, Evaluation] = {}
        self.evaluations = 0
        self.failures = 0
        self.iteration = 0
        self.last: Elite | None = None
        self.history: list[dict[str, Any]] = []

    def _parents(self) -> tuple[Parent, ...]:
        return tuple(Parent(e.id, e.source, e.warrior, e.fitness) for e in self.archive.members())

    def _request(self, kind: str, slot: int, parent: Elite | None, archive: tuple[Parent, ...]) -> Request:
        feedback: tuple[str, ...] = ()
        if getattr(self.generator, "feedback", False):
            source = parent if parent is not None else self.last
            if source is not None:
                feedback = _feedback_lines(source.evaluation)
        return Request(
            kind=kind,
            round=self.t,
            iteration=self.iteration,
            seed=_seed(self.config.seed, self.t, self.iteration, slot),
            settings=self.config.settings,
            parent=None
            if parent is None
            else Parent(parent.id, parent.source, parent.warrior, parent.fitness),
            archive=archive,
            opponents=tuple(o.name for o in self.opponents),
            feedback=feedback,
        )

    def _ask(self, request: Request) -> list[Any]:
        try:
            texts = (
                self.generator.create(request) if request.kind == "create" else self.generator.mutate(request)
            )
        except AgentError as err:
            self.failures += 1
            self.intake.reject("backend", str(err))
            self._log({"kind": request.kind, "accepted": False, "category": "backend", "reason": str(err)})
            if self.failures >= MAX_BACKEND_FAILURES:
                raise RedQueenError(
                    f"round {self.t}: the generator's backend failed {self.failures} requests in a row "
                    f"(last: {err}); fix it and run again to resume"
                ) from err
            return []
        self.failures = 0
        if isinstance(texts, str | bytes):
            texts = [texts]
        return list(texts) if isinstance(texts, list | tuple) else [texts]

    def _log(self, entry: dict[str, Any]) -> None:
        entry = {"round": self.t, "iteration": self.iteration, **entry}
        with open(self.folder / "generations.jsonl", "a") as handle:
            handle.write(json.dumps(entry) + "\n")

    def _step(self, jobs: list[tuple[str, int, Elite | None, Any, str | None]]) -> None:
        """Intake, evaluate and place the candidates of one iteration (in order)."""
        candidates: list[tuple[Warrior, str, str, str | None, str | None, dict[str, Any]]] = []
        for origin, slot, parent, text, name in jobs:
            if origin == "warmup":
                warrior, category, reason = text, None, ""
                source = warrior.source.strip() or warrior.load_file()
            else:
                warrior, category, reason = self.intake.check(text)
                source = extract_redcode(text).strip() if warrior is not None else ""
            entry: dict[str, Any] = {
                "kind": origin,
                "slot": slot,
                "parent": None if parent is None else parent.id,
                "chars": len(text) if isinstance(text, str) else None,
            }
            if name is not None:
                entry["name"] = name
            if warrior is None:
                entry.update(accepted=False, category=category, reason=reason, excerpt=_excerpt(text))
                self._log(entry)
                continue
            candidates.append((warrior, source, origin, None if parent is None else parent.id, name, entry))
        fresh: dict[str, Warrior] = {}
        for warrior, *_ in candidates:
            key = _program_id(warrior)
            if key not in self.cache:
                fresh.setdefault(key, warrior)
        if fresh:
            evaluations = self.evaluator.evaluate(list(fresh.values()), self.opponents)
            self.cache.update(zip(fresh, evaluations, strict=True))
            self.evaluations += len(evaluations)
        for warrior, source, origin, parent_id, name, entry in candidates:
            key = _program_id(warrior)
            evaluation = self.cache[key]
            cell = self.archive.cell_of(evaluation.descriptors)
            elite = Elite(key, source, warrior, evaluation, cell, origin, parent_id, self.iteration, name)
            placed = self.archive.place(elite)
            self.last = elite
            entry.update(
                accepted=True, id=key, fitness=evaluation.fitness, beats_all=elite.beats_all,
                cell=list(cell), placed=placed,
            )  # fmt: skip
            self._log(entry)

    def _done(self) -> bool:
        best = self.archive.best()
        if best is None:
            return False
        settled = best.beats_all or not self.config.require_beats
        if not settled:
            return self.iteration >= self.config.iteration_cap
        if self.config.stop_fitness is not None and best.fitness >= self.config.stop_fitness:
            return True
        return self.iteration >= self.config.iterations

    def play(self) -> Elite:
        config = self.config
        (self.folder / "generations.jsonl").write_text("")
        # iteration 0: the first warriors and the warm-up
        first = []
        archive = self._parents()
        for slot in range(config.n_init):
            request = self._request("create", slot, None, archive)
            first += [("create", slot, None, text, None) for text in self._ask(request)]
        if config.warmup:
            first += [("warmup", k, None, warrior, name) for k, (name, _, warrior) in enumerate(self.warmups)]
        self._step(first)
        self._record()
        while not self._done() and self.iteration < config.iteration_cap:
            self.iteration += 1
            rng = np.random.default_rng(_seed(config.seed, self.t, self.iteration))
            archive = self._parents()
            jobs = []
            for slot in range(config.batch):
                if not self.archive.cells or rng.random() < config.new_fraction:
                    request = self._request("create", slot, None, archive)
                    jobs += [("create", slot, None, text, None) for text in self._ask(request)]
                else:
                    parent = self.archive.sample(rng)
                    request = self._request("mutate", slot, parent, archive)
                    jobs += [("mutate", slot, parent, text, None) for text in self._ask(request)]
            self._step(jobs)
            self._record()
        best = self.archive.best()
        if best is None:
            counts = ", ".join(f"{k} {v}" for k, v in self.intake.counts.items() if v)
            raise RedQueenError(
                f"round {self.t}: no generated text assembled in {self.iteration} iterations ({counts}); "
                "see generations.jsonl in the round's folder"
            )
        return best

    def _record(self) -> None:
        best = self.archive.best()
        self.history.append(
            {
                "iteration": self.iteration,
                "best_fitness": None if best is None else best.fitness,
                "beats_all": None if best is None else best.beats_all,
                "coverage": self.archive.coverage,
                "accepted": self.intake.counts["accepted"],
                "rejected": self.intake.rejected,
            }
        )
        self.on_iteration(self)


def _resolve_warriors(specs: Sequence[str], config: RedQueenConfig, where: str) -> dict[str, Warrior]:
    from redqueen.envs.corewar.warriors import DIRECTORY, resolve_many

    base = Path(config.base_dir) if config.base_dir else None
    resolved = []
    for spec in specs:
        if spec == "library":
            resolved.append(str(DIRECTORY))
            continue
        path = Path(spec)
        if base is not None and not path.is_absolute() and (base / path).exists():
            resolved.append(str(base / path))
        else:
            resolved.append(spec)
    try:
        return resolve_many(resolved, config.settings)
    except (OSError, RedqueenError, ValueError, TypeError) as err:
        raise ConfigError(f"{where}: {err}") from None


class _Progress:
    """Rich progress bars for the rounds and the current round's iterations (or nothing)."""

    def __init__(self, enabled: bool, config: RedQueenConfig, console: Any = None):
        self.enabled = enabled
        self.config = config
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"), console=console,
        )  # fmt: skip
        self.rounds = self.bar.add_task("rounds", total=config.rounds, status="")
        self.round = self.bar.add_task("round", total=max(1, config.iterations), status="")

    def __enter__(self) -> _Progress:
        if self.enabled:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.stop()

    def start_round(self, t: int, done: int) -> None:
        if self.enabled:
            self.bar.update(self.rounds, completed=done, status="")
            self.bar.reset(
                self.round, total=max(1, self.config.iterations), description=f"round {t}", status=""
            )

    def iteration(self, state: _Round) -> None:
        if not self.enabled:
            return
        best = state.archive.best()
        status = (
            f"best {best.fitness:.3f}{'' if best.beats_all else ' (not beating all)'} · "
            f"archive {state.archive.coverage}/{state.archive.shape[0] * state.archive.shape[1]} · "
            f"ok {state.intake.counts['accepted']} rejected {state.intake.rejected}"
            if best is not None
            else "no warrior yet"
        )
        total = max(self.config.iterations, state.iteration, 1)
        self.bar.update(self.round, completed=state.iteration, total=total, status=status)

    def end_round(self, record: RoundRecord) -> None:
        if self.enabled:
            general = "" if record.generality is None else f" · generality {record.generality:.2f}"
            self.bar.update(
                self.rounds, advance=1, status=f"round {record.round}: fitness {record.fitness:.3f}{general}"
            )


def run_red_queen(
    config: RedQueenConfig,
    out: str | Path,
    *,
    generator: Generator | None = None,
    workers: int | None = None,
    progress: bool = False,
    console: Any = None,
    stop_after: int | None = None,
    pool: BattlePool | None = None,
) -> RunResult:
    """Run (or resume) the Red Queen loop of ``config`` into the folder ``out`` (see the module
    docstring). ``generator``: a :class:`~redqueen.trainers.red_queen.generators.Generator` to use
    instead of the config's ``[generator]``; ``workers``: battle processes (default: the config's,
    else one per CPU); ``progress``: rich progress bars; ``stop_after``: stop once this many rounds are
    finished (the run can be resumed later); ``pool``: a :class:`BattlePool` to play in (kept open;
    several runs can share one), instead of making one of ``workers`` processes.

    With more than one worker the battles run in spawned processes, so a script that calls this needs
    the ``if __name__ == "__main__":`` guard (``workers=1`` plays in this process)."""
    from redqueen.trainers.red_queen.fitness import cpu_count

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    finished = _load_finished(out, config)
    resumed = len(finished)
    _write(out / "config.toml", config_toml(config.to_dict()))
    initial = _resolve_warriors(config.initial, config, "initial")
    held_out: dict[str, Warrior] | None = None
    if config.generality is not None:
        held_out = _resolve_warriors([config.generality["folder"]], config, "generality.folder")
        if not held_out:
            raise ConfigError(f"generality.folder {config.generality['folder']!r} holds no .red files")
    champions: list[tuple[str, Warrior]] = []
    for record in finished:
        name = f"round_{record.round:03d}"
        champions.append((name, _load_champion(out / name / "champion.red", config)))
    last = config.rounds if stop_after is None else min(config.rounds, int(stop_after))
    workers = workers or config.workers or cpu_count()
    with (
        nullcontext(pool) if pool is not None else BattlePool(workers) as pool,
        _generator_context(generator, config) as gen,
        _Progress(progress, config, console) as bars,
    ):
        evaluator = Evaluator(
            config.settings, config.fitness, config.battles, config.battle_seed, config.probe_cycles, pool
        )
        for t in range(len(finished) + 1, last + 1):
            started = time.perf_counter()
            bars.start_round(t, len(finished))
            folder = out / f"round_{t:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            earlier = champions[-config.last_k :] if config.last_k else champions
            opponents = [Opponent(n, w, "initial") for n, w in initial.items()]
            opponents += [Opponent(n, w, "champion") for n, w in earlier]
            warmups = [(n, "initial", w) for n, w in initial.items()] + [
                (n, "champion", w) for n, w in earlier
            ]
            state = _Round(t, config, gen, evaluator, opponents, warmups, folder, bars.iteration)
            champion = state.play()
            general: GeneralityResult | None = None
            if held_out is not None and config.generality is not None:
                rounds, seed = (
                    int(config.generality.get("rounds", 100)),
                    int(config.generality.get("seed", 0)),
                )
                results = pool.map(
                    _generality_jobs(champion.warrior, held_out, rounds, seed, config.settings)
                )
                general = _generality_result(held_out, results, rounds, seed)
            record = RoundRecord(
                round=t,
                champion=champion.id,
                fitness=champion.fitness,
                beats_all=champion.beats_all,
                cell=champion.cell,
                descriptors=dict(champion.evaluation.descriptors),
                coverage=state.archive.coverage,
                iterations=state.iteration,
                evaluations=state.evaluations,
                accepted=state.intake.counts["accepted"],
                rejected=state.intake.rejected,
                generality=None if general is None else general.fraction,
                seconds=time.perf_counter() - started,
            )
            _write_round(folder, state, champion, record, general)
            finished.append(record)
            champions.append((f"round_{t:03d}", _load_champion(folder / "champion.red", config)))
            _write_json(
                out / "run.json",
                {
                    "version": RUN_VERSION,
                    "config": config.identity(),
                    "rounds_planned": config.rounds,
                    "generator": repr(gen),
                    "rounds": [r.to_dict() for r in finished],
                },
            )
            bars.end_round(record)
    return RunResult(out, finished, resumed)


@contextmanager
def _generator_context(generator: Generator | None, config: RedQueenConfig) -> Iterator[Generator]:
    if generator is not None:
        yield generator
        return
    with make_generator(config.generator) as made:
        yield made


def _load_champion(path: Path, config: RedQueenConfig) -> Warrior:
    from redqueen.envs.corewar.redcode import assemble

    try:
        return assemble(path.read_text(), config.settings)
    except (OSError, RedqueenError) as err:
        raise RedQueenError(f"cannot read the champion {path}: {err}") from None


def _write_round(
    folder: Path, state: _Round, champion: Elite, record: RoundRecord, general: GeneralityResult | None
) -> None:
    _write(folder / "champion.red", champion.source.rstrip() + "\n")
    _write_json(folder / "archive.json", {"round": state.t, **state.archive.to_dict()})
    scores = {
        "round": state.t,
        "record": record.to_dict(),
        "champion": champion.to_dict(),
        "opponents": [{"name": o.name, "role": o.role} for o in state.opponents],
        "generality": None if general is None else general.to_dict(),
        "intake": dict(state.intake.counts),
        "history": state.history,
    }
    _write_json(folder / "scores.json", scores)


def load_run(out: str | Path) -> dict[str, Any]:
    """``run.json`` of a run folder, with every finished round's ``scores.json`` and ``archive.json``
    (``rounds[i]["scores"]``, ``rounds[i]["archive"]``)."""
    out = Path(out)
    path = out / "run.json"
    if not path.is_file():
        raise FileNotFoundError(f"no Red Queen run in {out} (no run.json)")
    data = json.loads(path.read_text())
    for record in data["rounds"]:
        folder = out / f"round_{record['round']:03d}"
        record["scores"] = json.loads((folder / "scores.json").read_text())
        record["archive"] = json.loads((folder / "archive.json").read_text())
    data["out"] = str(out)
    return data


def champions(out: str | Path, settings: Any = None) -> dict[str, Warrior]:
    """The champions of a run folder's finished rounds, by name (``round_001``, ...), assembled."""
    from redqueen.envs.corewar.redcode import assemble

    out = Path(out)
    data = load_run(out)
    identity = data.get("config", {}).get("settings", {})
    if settings is None:
        from redqueen.envs.corewar.core import Settings

        settings = Settings(**identity)
    return {
        f"round_{r['round']:03d}": assemble(
            (out / f"round_{r['round']:03d}" / "champion.red").read_text(), settings
        )
        for r in data["rounds"]
    }
