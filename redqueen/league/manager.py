"""The league manager: runs a league from its configuration, resumably, into one store.

A league run (:func:`run_league`, ``redqueen league run CONFIG.toml --out DIR``):

1. opens ``DIR/league.sqlite`` (a new league, or the one a killed run left: the configuration must be
   the same) and registers the configured agents;
2. each learner starts as a fresh SB3 model whose frozen copy ``NAME@0`` joins the league;
3. **evaluation**: every pair of league members plays ``games_per_pair`` games (seats swapped every
   game), in jobs of at most :data:`JOB_GAMES` games. A job's key and seed come from the pair, so a
   resumed run plays exactly the jobs that are missing, with the same seeds, and the store's unique
   keys make sure no game is counted twice. After new games the ratings are refitted on the whole
   history (batch Elo for two-player games, openskill for more) and added to the rating history;
4. **training** (while a learner has budget left and has not reached its target): each learner trains
   ``snapshot_every`` steps against opponents its matchmaking picks (one per episode, from the payoff
   table of all games so far), then saves a snapshot ``NAME@STEPS`` (atomically) that joins the
   league, measures its metrics, and goes back to step 3 so the new snapshot meets everyone. A chunk
   is a pure function of the checkpoint it starts from and its seed, so a run killed in the middle of
   a chunk redoes that chunk and ends with the same weights. Main exploiters restart from their initial
   weights after every snapshot, league exploiters with probability 0.25.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from redqueen.game import Game, RedqueenError
from redqueen.league.config import LeagueConfig, LearnerConfig
from redqueen.league.matchmaking import LearnerInfo, Matchmaker, Payoff
from redqueen.league.runners import MatchJob, derive_seed, make_runner, single_thread_torch, write_transcripts
from redqueen.league.specs import build_agent, spec_kind
from redqueen.league.store import AgentRecord, LeagueStore, RatingRecord, TrainingRecord
from redqueen.registry import make_game

JOB_GAMES = 20
"""Most games in one job (one transaction in the store): a killed run loses at most this many
finished-but-unstored games per worker, and replays them identically."""

DB_NAME = "league.sqlite"


class LeagueError(RedqueenError, RuntimeError):
    """The league cannot go on (a learner's checkpoint is gone, an agent cannot be built...)."""


@dataclass
class LeagueSummary:
    out_dir: Path
    db_path: Path
    games: int
    new_games: int
    agents: list[str]
    learners: dict[str, dict[str, Any]] = field(default_factory=dict)
    ratings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def _learner_key(name: str) -> str:
    return f"learner/{name}"


class League:
    """A league run over ``out_dir`` (see the module docstring). ``runner``/``workers`` override the
    configuration's (a resumed run may use another runner: the results are the same)."""

    def __init__(
        self,
        config: LeagueConfig,
        out_dir: str | os.PathLike[str],
        *,
        runner: str | None = None,
        workers: int | None = None,
        progress: bool = True,
        console: Any = None,
    ):
        self.config = config
        self.out_dir = Path(out_dir).resolve()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.out_dir / DB_NAME
        self.runner_name = runner or config.runner
        self.workers = workers or config.workers
        self.progress = progress
        self.console = console
        self.game: Game = make_game(config.game, **config.game_params)
        self.store = LeagueStore(self.db_path)
        self._agents: dict[str, Any] = {}  # built agents, by name (for training opponents and metrics)
        self._runner: Any = None
        self._bar: Any = None

    # ---- plumbing --------------------------------------------------------------------------------
    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        self.store.close()

    def __enter__(self) -> League:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _print(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text, markup=False, highlight=False)

    def runner(self) -> Any:
        if self._runner is None:
            self._runner = make_runner(self.runner_name, self.workers, self.config.ray_address)
        return self._runner

    def agent(self, name: str) -> Any:
        """The league member ``name``, built in this process (cached)."""
        agent = self._agents.get(name)
        if agent is None:
            record = self.store.agent(name)
            agent = build_agent(record.spec, self.game, name=name, seed=0, base_dir=self.out_dir)
            self._agents[name] = agent
        return agent

    def members(self) -> list[AgentRecord]:
        """The members that play league games (everyone but the learners' live selves)."""
        return [a for a in self.store.agents() if a.kind != "learner"]

    def learner_state(self, learner: LearnerConfig) -> dict[str, Any]:
        state = self.store.get_state(_learner_key(learner.name))
        if state is None:
            raise LeagueError(f"learner {learner.name!r} was not set up")
        return dict(state)

    # ---- set-up ----------------------------------------------------------------------------------
    def setup(self) -> bool:
        """Write (or check) the configuration and register agents and learners; True for a new league."""
        fresh = self.store.init_config(self.config.identity())
        for agent in self.config.agents:
            self.store.add_agent(AgentRecord(agent.name, spec_kind(agent.spec), agent.spec, role="fixed"))
        for learner in self.config.learners:
            if self.store.get_state(_learner_key(learner.name)) is None:
                self._init_learner(learner)
        return fresh

    def _checkpoint(self, learner: str, snapshot: str) -> Path:
        return self.out_dir / "checkpoints" / learner / f"{snapshot}.zip"

    def _rel(self, path: Path) -> str:
        return str(path.relative_to(self.out_dir))

    def _snapshot_record(
        self, learner: LearnerConfig, name: str, path: Path, version: int, parent: str
    ) -> AgentRecord:
        spec = {"type": "sb3", "path": self._rel(path), "deterministic": learner.deterministic}
        return AgentRecord(
            name,
            "snapshot",
            spec,
            version=version,
            checkpoint=self._rel(path),
            parent=parent,
            role=learner.role,
        )

    def _init_learner(self, learner: LearnerConfig) -> None:
        from redqueen.trainers.sb3_league import new_model, save_model

        model = new_model(
            self.game,
            learner.algo,
            seed=derive_seed(self.config.seed, "init", learner.name),
            policy_kwargs=learner.policy_kwargs,
            hyperparams=self._hyperparams(learner),
        )
        from redqueen.agents.sb3 import SB3Agent

        name = f"{learner.name}@0"
        path = save_model(model, self._checkpoint(learner.name, name))
        spec = {"type": "learner", "algo": type(model).__name__, "role": learner.role}
        cpu0 = time.process_time()
        metrics = self.measure(
            learner, SB3Agent(model, name=name, deterministic=learner.eval_deterministic), 0
        )
        seconds = time.process_time() - cpu0
        self.store.add_training(
            [
                TrainingRecord(learner.name, 0, 0, metric=k, value=v, seconds=seconds)
                for k, v in metrics.items()
            ],
            agents=[
                AgentRecord(learner.name, "learner", spec, role=learner.role),
                self._snapshot_record(learner, name, path, 0, learner.name),
            ],
            state={
                _learner_key(learner.name): {
                    "steps": 0,
                    "generation": 0,
                    "checkpoint": self._rel(path),
                    "initial": self._rel(path),
                    "done": False,
                    "reason": None,
                }
            },
        )

    @staticmethod
    def _hyperparams(learner: LearnerConfig) -> dict[str, Any]:
        params = dict(learner.hyperparams)
        if learner.lr_schedule == "linear":
            params.setdefault("learning_rate", 3e-4)
        return params

    # ---- evaluation --------------------------------------------------------------------------------
    def _eval_games(self, a: AgentRecord, b: AgentRecord) -> int:
        learners = {lc.name: lc for lc in self.config.learners}
        counts = [
            learners[r.parent].eval_games
            for r in (a, b)
            if r.kind == "snapshot" and r.parent in learners and learners[r.parent].eval_games
        ]
        return max(counts) if counts else self.config.games_per_pair

    def pending_jobs(self) -> list[MatchJob]:
        """The evaluation jobs not in the store yet: every pair of members, in join order."""
        members = self.members()
        done = self.store.match_keys("rr/")
        jobs = []
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                total = self._eval_games(a, b)
                for chunk, start in enumerate(range(0, total, JOB_GAMES)):
                    key = f"rr/{a.name}|{b.name}/{chunk}"
                    n = min(JOB_GAMES, total - start)
                    if f"{key}#{n - 1}" in done:
                        continue
                    jobs.append(
                        MatchJob(
                            key=key,
                            game=self.config.game,
                            agents=((a.name, a.spec), (b.name, b.spec)),
                            n_games=n,
                            seed=derive_seed(self.config.seed, key),
                            game_params=self.config.game_params,
                            invalid=self.config.invalid,
                            transcript=self.config.transcripts,
                            base_dir=str(self.out_dir),
                            concurrency=self.config.concurrency,
                        )
                    )
        return jobs

    def evaluate(self) -> int:
        """Play the missing evaluation jobs; store each job's games in one transaction; refit the
        ratings when games were added. Returns the number of games added."""
        jobs = self.pending_jobs()
        added = 0
        if jobs:
            total = sum(j.n_games for j in jobs)
            task = self._bar.add_task("league games", total=total) if self._bar is not None else None
            for result in self.runner().run(jobs):
                records = result.records
                if result.transcripts is not None:
                    path = (
                        self.out_dir
                        / "transcripts"
                        / f"{result.key.replace('/', '_').replace('|', '-')}.jsonl"
                    )
                    write_transcripts(path, result.transcripts, [r.key for r in records])
                    rel = self._rel(path)
                    records = [_with_transcript(r, rel) for r in records]
                added += self.store.record_matches(records)
                if task is not None:
                    self._bar.advance(task, len(records))
            if task is not None:
                self._bar.remove_task(task)
        self.update_ratings()
        return added

    def update_ratings(self) -> dict[str, float]:
        """Refit the ratings on every stored game and add them to the history (once per game count)."""
        from redqueen.league import ratings

        games = self.store.count_matches()
        if games == 0 or self.store.get_state("ratings/games") == games:
            return {}
        matches = self.store.matches()
        records: list[RatingRecord] = []
        values: dict[str, float] = {}
        if self.game.num_players == 2:
            elo = ratings.elo_fit(matches)
            records += [RatingRecord(name, "elo", value, None, games, games) for name, value in elo.items()]
            values = dict(elo)
        else:
            skills = ratings.openskill_ratings(matches, mode="ffa")
            records += [
                RatingRecord(str(name), "openskill", s.mu, s.sigma, games, games)
                for name, s in skills.items()
            ]
            values = {str(name): s.ordinal for name, s in skills.items()}
        self.store.add_ratings(records)
        self.store.set_state("ratings/games", games)
        return values

    # ---- training ----------------------------------------------------------------------------------
    def payoff(self) -> Payoff:
        """The payoff table of every league game and training chunk so far, in order."""
        payoff = Payoff.from_results(self.store.matches(), self.config.decay, self.config.draw_score)
        for row in self.store.training():
            if row.opponent is not None and row.games:
                payoff.add_counts(row.learner, row.opponent, row.wins, row.draws, row.losses)
        return payoff

    def matchmaker(self) -> Matchmaker:
        agents = self.store.agents()
        infos = []
        for learner in self.config.learners:
            snapshots = [a.name for a in agents if a.kind == "snapshot" and a.parent == learner.name]
            infos.append(LearnerInfo(learner.name, learner.role, snapshots, learner.opponents))  # type: ignore[arg-type]
        fixed = [a.name for a in agents if a.kind not in ("snapshot", "learner")]
        return Matchmaker(infos, fixed, self.payoff(), p=self.config.pfsp_p)

    def train_generation(
        self, learner: LearnerConfig, on_steps: Callable[[int], None] | None = None
    ) -> dict[str, Any]:
        """One chunk of ``learner``'s training, its snapshot, metrics and state, stored together."""
        from redqueen.agents.sb3 import SB3Agent
        from redqueen.trainers.sb3_league import ChunkLR, Oracle, save_model, train_chunk

        state = self.learner_state(learner)
        generation = state["generation"] + 1
        steps = min(learner.snapshot_every, learner.steps - state["steps"])
        checkpoint = self.out_dir / state["checkpoint"]
        if not checkpoint.is_file():
            raise LeagueError(f"learner {learner.name!r}: its checkpoint {str(checkpoint)!r} is missing")
        matchmaker = self.matchmaker()

        def choose(rng: np.random.Generator) -> Any:
            return matchmaker.get_match(learner.name, rng, learner.matchmaking)

        lr = None
        if learner.lr_schedule == "linear":
            lr0 = float(self._hyperparams(learner)["learning_rate"])
            lr = ChunkLR(
                lr0,
                state["steps"] / learner.steps,
                (state["steps"] + steps) / learner.steps,
                learner.lr_final,
            )
        oracle = None
        if learner.oracle:
            oracle = Oracle(
                f"oracle({learner.name})",
                weight=float(learner.oracle["weight"]),
                refresh_every=int(learner.oracle["refresh_every"]),
                deterministic=learner.deterministic,
            )
        chunk = train_chunk(
            self.game,
            learner.algo,
            checkpoint,
            steps,
            seed=derive_seed(self.config.seed, "train", learner.name, generation),
            choose=choose,
            build=self.agent,
            learning_rate=lr,
            n_envs=learner.n_envs,
            oracle=oracle,
            on_steps=on_steps,
        )
        total = state["steps"] + chunk.steps
        name = f"{learner.name}@{total}"
        path = save_model(chunk.model, self._checkpoint(learner.name, name))
        cpu0 = time.process_time()
        snapshot_agent = SB3Agent(chunk.model, name=name, deterministic=learner.eval_deterministic)
        metrics = self.measure(learner, snapshot_agent, generation)
        reached = _target_reached(learner.target, metrics)
        reset = matchmaker.resets_after_snapshot(
            learner.name,
            np.random.default_rng(derive_seed(self.config.seed, "reset", learner.name, generation)),
        )
        done = total >= learner.steps or reached
        new_state = {
            **state,
            "steps": total,
            "generation": generation,
            "checkpoint": state["initial"] if reset else self._rel(path),
            "done": done,
            "reason": "target" if reached else ("budget" if done else None),
        }
        rows = [
            TrainingRecord(
                learner.name,
                generation,
                total,
                opponent=opponent,
                games=sum(wdl),
                wins=wdl[0],
                draws=wdl[1],
                losses=wdl[2],
                seconds=chunk.cpu_seconds,
            )
            for opponent, wdl in sorted(chunk.outcomes.items())
        ]
        metric_seconds = time.process_time() - cpu0
        rows += [
            TrainingRecord(learner.name, generation, total, metric=k, value=v, seconds=metric_seconds)
            for k, v in metrics.items()
        ]
        self.store.add_training(
            rows,
            agents=[self._snapshot_record(learner, name, path, generation, learner.name)],
            state={_learner_key(learner.name): new_state},
        )
        shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        self._print(
            f"{name}: {chunk.steps} steps in {chunk.cpu_seconds:.1f} CPU-s"
            + (f"; {shown}" if shown else "")
            + (" (reset to initial weights)" if reset else "")
            + (f" - done ({new_state['reason']})" if done else "")
        )
        return {"snapshot": name, "steps": total, "metrics": metrics, "done": done, "reset": reset}

    def measure(self, learner: LearnerConfig, agent: Any, generation: int) -> dict[str, float]:
        """The learner's metrics for its new snapshot ``agent``."""
        from redqueen.match import play

        out: dict[str, float] = {}
        for metric in learner.all_metrics():
            if metric == "exploitability":
                from redqueen.evaluation import exploitability

                out["exploitability"] = float(exploitability(agent, self.game))
            elif metric.startswith("vs:"):
                opponent = metric[3:]
                n = int(learner.target.get("games", 0) if learner.target.get("vs") == opponent else 0)
                n = n or learner.eval_games or self.config.games_per_pair
                result = play(
                    self.game,
                    [agent, self.agent(opponent)],
                    n_games=n,
                    seed=derive_seed(self.config.seed, "metric", learner.name, generation, opponent),
                    swap_seats=True,
                    invalid=self.config.invalid,
                )
                out[f"{metric}:score"] = float((result.wins[0] + 0.5 * result.draws[0]) / n)
                out[f"{metric}:draw_rate"] = float(result.draws[0] / n)
                out[f"{metric}:loss_rate"] = float(result.losses[0] / n)
                out[f"{metric}:losses"] = float(result.losses[0])
        return out

    # ---- the run ---------------------------------------------------------------------------------
    def run(self, on_generation: Callable[[str, dict[str, Any]], None] | None = None) -> LeagueSummary:
        """Run (or resume) the league to its end. ``on_generation(learner, result)`` is called after
        each training chunk with what :meth:`train_generation` returned."""
        started = time.perf_counter()
        if "OMP_NUM_THREADS" not in os.environ:
            single_thread_torch()
        before = self.store.count_matches()
        fresh = self.setup()
        if not fresh:
            self._print(f"resuming the league in {self.db_path} ({before} games stored)")
        bar = None
        if self.progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            bar.start()
        self._bar = bar
        try:
            self.evaluate()
            tasks = {}
            if bar is not None:
                for learner in self.config.learners:
                    state = self.learner_state(learner)
                    tasks[learner.name] = bar.add_task(
                        f"{learner.name} steps", total=learner.steps, completed=state["steps"]
                    )
            while True:
                active = [lc for lc in self.config.learners if not self.learner_state(lc)["done"]]
                if not active:
                    break
                for learner in active:
                    task = tasks.get(learner.name)
                    advance = (
                        (lambda n, t=task: bar.advance(t, n))
                        if bar is not None and task is not None
                        else None
                    )
                    result = self.train_generation(learner, on_steps=advance)
                    if on_generation is not None:
                        on_generation(learner.name, result)
                    if bar is not None and task is not None:
                        bar.update(task, completed=self.learner_state(learner)["steps"])
                self.evaluate()
        finally:
            if bar is not None:
                bar.stop()
            self._bar = None
        games = self.store.count_matches()
        latest: dict[str, float] = {}
        for row in self.store.ratings():
            if row.games == games:
                latest[row.agent] = row.value
        return LeagueSummary(
            out_dir=self.out_dir,
            db_path=self.db_path,
            games=games,
            new_games=games - before,
            agents=[a.name for a in self.members()],
            learners={lc.name: self.learner_state(lc) for lc in self.config.learners},
            ratings=latest,
            seconds=time.perf_counter() - started,
        )


def _with_transcript(record: Any, path: str) -> Any:
    from dataclasses import replace

    return replace(record, transcript=path)


def _target_reached(target: dict[str, Any], metrics: dict[str, float]) -> bool:
    if not target:
        return False
    ok = True
    if "exploitability" in target:
        ok &= metrics.get("exploitability", math.inf) < float(target["exploitability"])
    if "vs" in target:
        prefix = f"vs:{target['vs']}"
        if "max_losses" in target:
            ok &= metrics[f"{prefix}:losses"] <= float(target["max_losses"])
        if "min_draw_rate" in target:
            ok &= metrics[f"{prefix}:draw_rate"] >= float(target["min_draw_rate"])
        if "min_score" in target:
            ok &= metrics[f"{prefix}:score"] >= float(target["min_score"])
    return bool(ok)


def run_league(
    config: LeagueConfig,
    out_dir: str | os.PathLike[str],
    *,
    runner: str | None = None,
    workers: int | None = None,
    progress: bool = True,
    console: Any = None,
) -> LeagueSummary:
    """Run (or resume) the league of ``config`` into ``out_dir``; see :class:`League`."""
    with League(
        config, out_dir, runner=runner, workers=workers, progress=progress, console=console
    ) as league:
        return league.run()


def expected_games(config: LeagueConfig, members: Sequence[str] | None = None) -> int:
    """Games a league of fixed agents plays: ``games_per_pair`` for every pair."""
    n = len(members) if members is not None else len(config.agents)
    return n * (n - 1) // 2 * config.games_per_pair
