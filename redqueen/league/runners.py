"""Runners: where league games are played.

A :class:`MatchJob` is plain data: the game, the agents (name and spec, see
:mod:`redqueen.league.specs`), the number of games and the job's seed. :func:`play_job` plays it with
:func:`redqueen.play` (seats swapped every game) and returns one :class:`~redqueen.league.store.
MatchRecord` per game. A job's games depend only on the job, never on where or when it runs, so every
runner gives the same results for the same seeds:

* :class:`LocalRunner` (``"local"``, the default): in this process, one job after the other;
* :class:`ProcessRunner` (``"processes"``): a pool of worker processes (spawned, so torch and
  threads are safe), ``workers`` of them (default: the CPU count);
* :class:`RayRunner` (``"ray"``, needs ``pip install 'redqueen[ray]'``): Ray tasks, on this machine
  (``ray.init(num_cpus=workers)``) or on the cluster at ``address``.

Every worker runs torch with one thread (``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``): on a
2-core machine two threads per process made PPO about 12 times slower. Runners yield results as jobs
finish (in any order); the league stores each job's games in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from redqueen.game import RedqueenError
from redqueen.league.specs import build_agent
from redqueen.league.store import MatchRecord

RUNNERS: tuple[str, ...] = ("local", "processes", "ray")


class RunnerError(RedqueenError, RuntimeError):
    """A runner could not start or a job failed."""


@dataclass(frozen=True)
class MatchJob:
    """Games between league members: ``agents`` is one (name, spec) per seat, as given to
    :func:`redqueen.play` with ``swap_seats=True``."""

    key: str
    game: str
    agents: tuple[tuple[str, Mapping[str, Any]], ...]
    n_games: int
    seed: int
    game_params: Mapping[str, Any] = field(default_factory=dict)
    invalid: str = "forfeit"
    transcript: bool = False
    base_dir: str | None = None
    concurrency: int = 1

    def game_key(self, k: int) -> str:
        return f"{self.key}#{k}"


@dataclass
class JobResult:
    key: str
    records: list[MatchRecord]
    transcripts: list[list[dict[str, Any]]] | None
    seconds: float


def single_thread_torch() -> None:
    """One torch/OpenMP thread in this process (worker initialiser)."""
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


_CACHE: dict[str, Any] = {}  # per process: built agents by (name, spec), and games


def _cached_agent(name: str, spec: Mapping[str, Any], game: Any, base_dir: str | None) -> Any:
    key = json.dumps([name, spec, game.id, base_dir], sort_keys=True, default=str)
    agent = _CACHE.get(key)
    if agent is None:
        agent = _CACHE[key] = build_agent(spec, game, name=name, seed=0, base_dir=base_dir)
    return agent


def play_job(job: MatchJob, runner: str = "local") -> JobResult:
    """Play a job in this process. Agents are built once per process and reused (``redqueen.play``
    resets each agent with a seed from the job before every game, so reuse changes nothing)."""
    from redqueen.match import play
    from redqueen.registry import make_game

    game = make_game(job.game, **dict(job.game_params))
    agents = [_cached_agent(name, spec, game, job.base_dir) for name, spec in job.agents]
    names = [name for name, _ in job.agents]
    started = time.perf_counter()
    ends: list[float] = []
    result = play(
        game,
        agents,
        n_games=job.n_games,
        seed=job.seed,
        swap_seats=True,
        invalid=job.invalid,
        transcript=job.transcript,
        on_game_end=lambda k, state, returns: ends.append(time.perf_counter()),
        concurrency=job.concurrency,
    )
    records = []
    previous = started
    now = time.time()
    for k in range(job.n_games):
        order = result.seatings[k]
        records.append(
            MatchRecord(
                key=job.game_key(k),
                game_id=game.id,
                seats=tuple(names[a] for a in order),
                seed=int(result.seeds[k]),
                returns=tuple(float(result.returns[k, a]) for a in order),
                invalid=tuple(int(result.invalid_per_game[k, a]) for a in order),
                length=int(result.lengths[k]),
                duration=ends[k] - previous,
                runner=runner,
                created=now,
            )
        )
        previous = ends[k]
    return JobResult(job.key, records, result.transcripts, time.perf_counter() - started)


class LocalRunner:
    """Plays jobs in this process, in order."""

    name = "local"

    def run(self, jobs: Sequence[MatchJob]) -> Iterator[JobResult]:
        for job in jobs:
            yield play_job(job, self.name)

    def close(self) -> None:
        pass


def _worker_job(job: MatchJob, runner: str) -> JobResult:
    return play_job(job, runner)


class ProcessRunner:
    """Plays jobs in a pool of ``workers`` spawned processes (default: the CPU count)."""

    name = "processes"

    def __init__(self, workers: int | None = None):
        import multiprocessing

        self.workers = workers or os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=single_thread_torch,
        )

    def run(self, jobs: Sequence[MatchJob]) -> Iterator[JobResult]:
        pending = {self._pool.submit(_worker_job, job, self.name): job for job in jobs}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    job = pending.pop(future)
                    try:
                        yield future.result()
                    except Exception as err:
                        raise RunnerError(f"job {job.key!r} failed in a worker process: {err}") from err
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayRunner:
    """Plays jobs as Ray tasks: on this machine (``num_cpus=workers``) or on the cluster at
    ``address`` (e.g. ``"auto"``). Ray is started here unless it already is."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None):
        try:
            import ray
        except ImportError:
            raise RunnerError("runner 'ray' needs Ray: pip install 'redqueen[ray]'") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            options: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "runtime_env": {"env_vars": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}},
            }
            if address is not None:
                options["address"] = address
            else:
                options["num_cpus"] = workers or os.cpu_count() or 1
            ray.init(**options)
            self._started = True
        self._remote = ray.remote(num_cpus=1)(_ray_job)

    def run(self, jobs: Sequence[MatchJob]) -> Iterator[JobResult]:
        ray = self._ray
        pending = {self._remote.remote(job, self.name): job for job in jobs}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    job = pending.pop(ref)
                    try:
                        yield ray.get(ref)
                    except Exception as err:
                        raise RunnerError(f"job {job.key!r} failed in a Ray task: {err}") from err
        finally:
            for ref in pending:
                ray.cancel(ref)

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()


def _ray_job(job: MatchJob, runner: str) -> JobResult:
    single_thread_torch()
    return play_job(job, runner)


def make_runner(name: str = "local", workers: int | None = None, address: str | None = None) -> Any:
    """A runner by name: ``"local"``, ``"processes"`` or ``"ray"``."""
    if name == "local":
        return LocalRunner()
    if name == "processes":
        return ProcessRunner(workers)
    if name == "ray":
        return RayRunner(workers, address)
    raise ValueError(f"unknown runner {name!r}; use one of {', '.join(RUNNERS)}")


def derive_seed(seed: int, *parts: object) -> int:
    """A 63-bit seed from the league seed and a job's identity (stable across processes and runs)."""
    digest = hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return int(np.random.default_rng([int(seed), *words]).integers(2**63 - 1))


def write_transcripts(path: Path, transcripts: list[list[dict[str, Any]]], keys: Sequence[str]) -> Path:
    """One JSON line per game (``{"key": ..., "turns": [...]}``), written atomically."""
    from redqueen.league.store import atomic_write_bytes

    lines = [
        json.dumps({"key": key, "turns": turns}, default=str)
        for key, turns in zip(keys, transcripts, strict=True)
    ]
    return atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
