"""The self-play trainer: rollouts, credit, update, evaluation, snapshots and checkpoints.

``train(config)`` (a :class:`~redqueen.trainers.llm_selfplay.config.SelfPlayConfig`, a dict or a TOML
path) runs :class:`Trainer` to the end and returns its summary. Each iteration:

1. ``games_per_iteration`` games are drawn from the config's ``[[games]]`` by weight and played
   through the text env (:func:`~redqueen.trainers.llm_selfplay.rollout.play_batch`): in
   ``"self_play"`` mode the live policy holds both seats (every turn of both players trains); in
   ``"fixed"`` mode it plays a fixed opponent (an agent spec: scripted, SB3, an LLM) with the seats
   alternating; in ``"league"`` mode a share ``self_play`` of the games is pure self-play and the
   others are against league members drawn by PFSP (or uniformly, i.e. fictitious self-play):
   the fixed members and the policy's own snapshots, which join the league every
   ``snapshot_every`` iterations (saved as model folders and added to the run's league store
   ``league.sqlite`` as agents, with every league game stored as a match, so ``redqueen league
   status RUN/league.sqlite`` ranks them);
2. every trained turn gets its advantage (RAE, none or MARS, see
   :mod:`~redqueen.trainers.llm_selfplay.algorithm`);
3. the policy takes ``epochs`` passes of PPO-clip or REINFORCE over the turns (optionally with a
   KL to the starting policy, and for regularised self-play a KL pull toward a magnet policy,
   refreshed to the current policy every ``magnet_refresh`` iterations, plus an entropy bonus, both
   over the legal moves).

Every ``eval.every`` iterations (and at the start and the end) it measures, per game: win, draw and
loss rates against each ``eval.opponents`` agent per seat with 95% Wilson intervals, the
invalid-answer rate, the mean reply length (SPIRAL's "thinking collapse" signal) and, for Kuhn
poker, the exact exploitability of the policy and its exact expected return against uniform random
play (from the answers' log-probabilities). Everything goes to ``metrics.csv`` (and TensorBoard if
asked) and is drawn in ``curves.png``.

Checkpoints (``checkpoint.pt``, written atomically every ``checkpoint_every`` iterations and at the
end) hold the trainable weights (the LoRA adapter, or all weights), the optimizer, the RAE baselines,
the generator state, the reference, magnet and snapshot weights, and the clock; a run started
again with the same config and folder resumes from it, and ends in the same state as a run that
was never stopped.
"""

from __future__ import annotations

import csv
import math
import os
import time
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from redqueen.agents.base import Agent, RandomAgent
from redqueen.envs.text import TextEnv
from redqueen.game import Game, RedqueenError, agent_observation
from redqueen.registry import make_game
from redqueen.trainers.llm_selfplay.algorithm import (
    RoleBaselines,
    Trajectory,
    Turn,
    k3_kl,
    legal_distribution,
    legal_regulariser,
    mars_advantages,
    outcome_advantages,
    policy_loss,
    wilson,
)
from redqueen.trainers.llm_selfplay.config import ConfigError, SelfPlayConfig, load_config, parse_config
from redqueen.trainers.llm_selfplay.formats import PromptFormat
from redqueen.trainers.llm_selfplay.policy import HFGenerator, Policy
from redqueen.trainers.llm_selfplay.rollout import (
    LIVE,
    AgentSeat,
    Job,
    PolicyAgent,
    PolicySeat,
    Seat,
    play_batch,
)
from redqueen.trainers.llm_selfplay.tiny import build_tiny_model

_SEED_HIGH = 2**31 - 1
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.csv"
_COLUMNS = ("iteration", "games", "wall_s", "cpu_s", "name", "value")


class TrainerError(RedqueenError, RuntimeError):
    """The trainer cannot go on (a checkpoint from another config, a missing package)."""


def _agent_label(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, Mapping):
        return str(spec.get("name") or spec.get("type", "agent"))
    raise ConfigError(f"an agent spec is a string or a table, got {spec!r}")


def _build_agent(spec: Any, game: Game, name: str, seed: int, base_dir: Path) -> Agent | None:
    """The agent of ``spec`` for ``game``, or None when the spec has no agent for it (``"nash"`` is
    Kuhn poker's equilibrium and TicTacToe's minimax; ``"cfr"`` is Kuhn only)."""
    from redqueen.agents import agent_games
    from redqueen.league.specs import build_agent, normalize_spec

    data = dict(spec) if isinstance(spec, Mapping) else spec
    if isinstance(data, dict):
        data.pop("name", None)
    normal = normalize_spec(data)
    kind = normal["type"]
    table = agent_games().get(kind)
    if table is not None and game.id not in table and "*" not in table:
        return None
    return build_agent(normal, game, name=name, seed=seed, base_dir=base_dir)


class _Log:
    """metrics.csv (long format: iteration, games, wall_s, cpu_s, name, value) and TensorBoard."""

    def __init__(self, folder: Path, tensorboard: bool):
        self.path = folder / METRICS
        self.writer: Any = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise TrainerError(
                    "log.tensorboard needs the tensorboard package: pip install tensorboard"
                ) from None
            self.writer = SummaryWriter(str(folder / "tensorboard"))

    def truncate(self, iteration: int) -> None:
        """Drop the rows written after the checkpoint a resumed run starts from."""
        if not self.path.exists():
            return
        with open(self.path, newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if int(r["iteration"]) <= iteration]
        with open(self.path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)

    def write(self, iteration: int, games: int, wall: float, cpu: float, values: Mapping[str, float]) -> None:
        new = not self.path.exists()
        with open(self.path, "a", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(_COLUMNS)
            for name, value in values.items():
                writer.writerow([iteration, games, f"{wall:.3f}", f"{cpu:.3f}", name, f"{float(value):.6g}"])
        if self.writer is not None:
            for name, value in values.items():
                if math.isfinite(float(value)):
                    self.writer.add_scalar(name, float(value), iteration)
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def read_metrics(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a run's metrics.csv, numbers parsed."""
    path = Path(folder) / METRICS
    with open(path, newline="") as handle:
        return [
            {
                "iteration": int(r["iteration"]),
                "games": int(r["games"]),
                "wall_s": float(r["wall_s"]),
                "cpu_s": float(r["cpu_s"]),
                "name": r["name"],
                "value": float(r["value"]),
            }
            for r in csv.DictReader(handle)
        ]


class Trainer:
    """LLM self-play training (see the module docstring).

    Args:
        config: the run's configuration.
        progress: show a rich progress bar.
        on_iteration: called with the trainer after every update, before that iteration's
            evaluation and checkpoint (it may call :meth:`request_stop`, e.g. at a time budget).
    """

    def __init__(
        self,
        config: SelfPlayConfig,
        *,
        progress: bool = False,
        on_iteration: Callable[[Trainer], None] | None = None,
    ):
        import torch

        if "OMP_NUM_THREADS" not in os.environ:
            torch.set_num_threads(1)
        self.config = config
        self.out = Path(config.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.progress = progress
        self.on_iteration = on_iteration
        self.fmt = PromptFormat.named(config.generation.prompt)
        self.entries = {entry.label: entry for entry in config.games}
        self.games: dict[str, Game] = {e.label: make_game(e.id, **e.params) for e in config.games}
        weights = np.array([e.weight for e in config.games], dtype=np.float64)
        self.weights = weights / weights.sum()
        self.policy = self._load_policy()
        algo = config.algorithm
        self.optimizer = torch.optim.AdamW(
            self.policy.trainable_parameters(), lr=algo.lr, betas=algo.betas, weight_decay=algo.weight_decay
        )
        self.baselines = RoleBaselines(algo.rae_decay)
        self.rng = np.random.default_rng(config.seed)
        self.iteration = 0
        self.games_played = 0
        self.wall = 0.0
        self.cpu = 0.0
        self.reference: Policy | None = None
        self.magnet: Policy | None = None
        self._magnet_cache: dict[str, Any] = {}
        self.snapshots: dict[str, Policy] = {}
        self.last_eval: dict[str, float] = {}
        self.history: list[dict[str, float]] = []
        self._payoff = self._new_payoff()
        self._store: Any = None
        self.log = _Log(self.out, config.log.tensorboard)
        self._agents: dict[tuple[str, str], Agent | None] = {}
        self._fixed = self._fixed_members()
        self._stop = False

    # ---- set-up ----------------------------------------------------------------------------------
    def _load_policy(self) -> Policy:
        model = self.config.model
        gen = self.config.generation
        path = model.path
        if not path:
            path = str(build_tiny_model(self.out / "tiny-init", seed=self.config.seed, **model.tiny))
        elif model.tiny:
            raise ConfigError("model.tiny sizes a model built from scratch; leave it out with model.path")
        policy = Policy.load(path, lora=model.lora or None, dtype=model.dtype, device=model.device)
        if gen.backend == "vllm":
            from redqueen.trainers.llm_selfplay.vllm_backend import VLLMGenerator

            options = dict(gen.vllm)
            folder = Path(path) if Path(path).is_dir() else Path(path).with_suffix(".hf")
            policy.generator = VLLMGenerator(
                folder,
                lora=policy.is_lora,
                max_lora_rank=int(model.lora.get("r", 16)) if model.lora else 16,
                sync_dir=self.out / "vllm-adapters",
                seed=self.config.seed,
                **options,
            )
        else:
            policy.generator = HFGenerator(gen.batch_size)
        return policy

    def _new_payoff(self) -> Any:
        from redqueen.league.matchmaking import Payoff

        return Payoff()

    def _fixed_members(self) -> dict[str, dict[str, Agent]]:
        """Per game label, the opponents of "fixed" / "league" mode by name."""
        mode = self.config.opponents.mode
        if mode == "self_play":
            return {}
        specs = [self.config.opponents.fixed] if mode == "fixed" else list(self.config.opponents.league)
        members: dict[str, dict[str, Agent]] = {}
        for label, game in self.games.items():
            table: dict[str, Agent] = {}
            for i, spec in enumerate(specs):
                name = _agent_label(spec)
                seed = int(np.random.default_rng([self.config.seed, 7, i]).integers(_SEED_HIGH))
                agent = _build_agent(spec, game, name, seed, self.out)
                if agent is not None:
                    table[name] = agent
            if mode == "fixed" and not table:
                raise ConfigError(f"opponents.fixed {specs[0]!r} has no agent for {label}")
            members[label] = table
        return members

    def _eval_agent(self, spec: Any, label: str) -> Agent | None:
        key = (label, repr(spec))
        if key not in self._agents:
            game = self.games[label]
            agent = _build_agent(spec, game, _agent_label(spec), 0, self.out)
            self._agents[key] = agent
        return self._agents[key]

    def store(self) -> Any:
        """The run's league store (``league.sqlite``), opened on first use."""
        if self._store is None:
            from redqueen.league.store import AgentRecord, LeagueStore

            self._store = LeagueStore(self.out / "league.sqlite")
            self._store.add_agent(AgentRecord(LIVE, "llm-learner", {"type": "llm-learner"}, role="main"))
            names = dict.fromkeys(name for table in self._fixed.values() for name in table)
            for name in names:
                self._store.add_agent(AgentRecord(name, "fixed", {"spec": self._spec_of(name)}))
        return self._store

    def _spec_of(self, name: str) -> Any:
        for spec in [self.config.opponents.fixed, *self.config.opponents.league]:
            if _agent_label(spec) == name:
                return spec if isinstance(spec, str) else dict(spec)
        return name

    # ---- the loop --------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Train to ``config.iterations`` (resuming from the run folder's checkpoint if there is one);
        returns the summary (also in ``summary.json``)."""
        import json

        config = self.config
        resumed = self.load_checkpoint()
        if not resumed:
            started = time.perf_counter(), time.process_time()
            if config.warmup.steps:
                self.warmup()
            self._start_references()
            self._tick(started)
            self.evaluate()
            self.save_checkpoint()
        bar = None
        if self.progress:
            from rich.progress import Progress

            bar = Progress()
            task = bar.add_task("self-play", total=config.iterations, completed=self.iteration)
            bar.start()
        try:
            while self.iteration < config.iterations and not self._stop:
                started = time.perf_counter(), time.process_time()
                metrics = self.step()
                self.iteration += 1
                self._after_step()
                self._tick(started)
                self.log.write(self.iteration, self.games_played, self.wall, self.cpu, metrics)
                every = config.eval.every
                if self.on_iteration is not None:
                    self.on_iteration(self)
                last = self.iteration == config.iterations or self._stop
                if (every and self.iteration % every == 0) or last:
                    self.evaluate()
                if self.iteration % config.checkpoint_every == 0 or last:
                    self.save_checkpoint()
                if bar is not None:
                    bar.update(task, completed=self.iteration, description=self._describe())
        finally:
            if bar is not None:
                bar.stop()
        self.policy.save(self.out / "policy")
        if config.log.plot:
            self.plot()
        summary = self.summary()
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        self.log.close()
        if self._store is not None:
            self._store.close()
            self._store = None
        return summary

    def request_stop(self) -> None:
        """End the run after the current iteration (evaluated and checkpointed as a last one)."""
        self._stop = True

    def _tick(self, started: tuple[float, float]) -> None:
        self.wall += time.perf_counter() - started[0]
        self.cpu += time.process_time() - started[1]

    def _describe(self) -> str:
        parts = [f"it {self.iteration}"]
        for key, value in self.last_eval.items():
            if key.endswith("/exploitability"):
                parts.append(f"expl {value:.3f}")
        invalid = self.last_eval.get("eval/invalid_rate")
        if invalid is not None and math.isfinite(invalid):
            parts.append(f"invalid {invalid:.1%}")
        return " ".join(parts)

    def summary(self) -> dict[str, Any]:
        best: dict[str, float] = {}
        for row in self.history:
            for key, value in row.items():
                if key.endswith("/exploitability") and math.isfinite(value):
                    best[key] = min(best.get(key, math.inf), value)
        return {
            "iterations": self.iteration,
            "games": self.games_played,
            "wall_s": self.wall,
            "cpu_s": self.cpu,
            "final": self.last_eval,
            "best_exploitability": best,
            "out": str(self.out),
        }

    def _after_step(self) -> None:
        config = self.config
        algo = config.algorithm
        if algo.magnet_coef and algo.magnet_refresh and self.iteration % algo.magnet_refresh == 0:
            self.magnet = self.policy.frozen_copy("magnet")
            self._magnet_cache = {}
        opp = config.opponents
        if opp.mode == "league" and self.iteration % opp.snapshot_every == 0:
            self.add_snapshot()
        self.policy.generator.sync(self.policy)

    def _start_references(self) -> None:
        algo = self.config.algorithm
        if algo.kl_coef:
            self.reference = self.policy.frozen_copy("reference")
        if algo.magnet_coef:
            self.magnet = self.policy.frozen_copy("magnet")
            self._magnet_cache = {}
        if self.config.opponents.mode == "league":
            self.add_snapshot()

    def add_snapshot(self) -> str:
        """Freeze the current policy as a league member ``live@<iteration>`` (saved under
        ``snapshots/`` and added to the league store); returns its name."""
        from redqueen.league.store import AgentRecord

        name = f"{LIVE}@{self.iteration}"
        if name in self.snapshots:
            return name
        self.snapshots[name] = self.policy.frozen_copy(name)
        folder = self.out / "snapshots" / name.replace("@", "-")
        if not (folder / "config.json").exists():
            self.snapshots[name].save(folder)
        spec = {
            "type": "python",
            "factory": "redqueen.trainers.llm_selfplay:load_policy_agent",
            "path": str(folder.resolve()),
            "prompt": self.config.generation.prompt,
        }
        self.store().add_agent(
            AgentRecord(name, "python", spec, version=self.iteration, checkpoint=str(folder), parent=LIVE)
        )
        limit = self.config.opponents.max_snapshots
        while len(self.snapshots) > limit:
            oldest = next(iter(self.snapshots))
            del self.snapshots[oldest]
        return name

    # ---- warm-up ---------------------------------------------------------------------------------
    def warmup_pool(self) -> list[tuple[str, list[str], np.ndarray]]:
        """(prompt, legal answers, target probabilities) of positions reached by random play; the
        targets are a random policy, one draw per position (``U(low, high)`` weights, normalised),
        fixed by the prompt and the seed."""
        cfg = self.config.warmup
        pool: dict[str, tuple[list[str], np.ndarray]] = {}
        rng = np.random.default_rng([self.config.seed, 11])
        for game in self.games.values():
            env = TextEnv(game)
            for _ in range(cfg.games):
                env.reset(seed=int(rng.integers(_SEED_HIGH)))
                done = False
                while not done:
                    player = env.current_player
                    assert player is not None
                    obs = agent_observation(env.state, player, "text")
                    prompt = self.fmt.prompt(obs)
                    if prompt not in pool:
                        answers = self.fmt.answers(obs)
                        draw = np.random.default_rng([self.config.seed, zlib.crc32(prompt.encode())])
                        weights = draw.uniform(cfg.low, cfg.high, size=len(answers))
                        pool[prompt] = (answers, weights / weights.sum())
                    moves = obs["legal_moves"]
                    _, _, done, _, _ = env.step(moves[int(rng.integers(len(moves)))])
        return [(p, a, w) for p, (a, w) in pool.items()]

    def warmup(self) -> dict[str, float]:
        """Behaviour cloning of a random policy (see :meth:`warmup_pool`): teaches the answer format,
        not a strategy. Returns the final loss."""
        import torch

        cfg = self.config.warmup
        pool = self.warmup_pool()
        rng = np.random.default_rng([self.config.seed, 12])
        optimizer = torch.optim.AdamW(self.policy.trainable_parameters(), lr=cfg.lr, betas=(0.9, 0.95))
        loss_value = float("nan")
        for _ in range(cfg.steps):
            picks = rng.integers(len(pool), size=min(cfg.batch, len(pool)))
            prompts, answers, targets = [], [], []
            for i in picks:
                prompt, options, probs = pool[int(i)]
                prompts.append(prompt)
                answers.append(options)
                targets.append(torch.tensor(probs, dtype=torch.float32))
            scores = self.policy.score(prompts, answers, eos=self.fmt.eos, grad=True)
            loss = -torch.stack([(t * s).sum() for t, s in zip(targets, scores, strict=True)]).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.policy.trainable_parameters(), 1.0)
            optimizer.step()
            loss_value = float(loss.detach())
        self.policy.generator.sync(self.policy)
        return {"warmup/loss": loss_value}

    # ---- one iteration ---------------------------------------------------------------------------
    def _jobs(self) -> list[Job]:
        config = self.config
        opp = config.opponents
        labels = list(self.entries)
        jobs = []
        for k in range(config.games_per_iteration):
            label = labels[int(self.rng.choice(len(labels), p=self.weights))]
            entry = self.entries[label]
            env = TextEnv(self.games[label], invalid=entry.invalid)
            seed = int(self.rng.integers(_SEED_HIGH))
            seats: tuple[Seat, ...]
            if opp.mode == "self_play":
                seats = (PolicySeat(), PolicySeat())
            else:
                opponent = self._pick_opponent(label)
                learner = k % 2
                if opponent is None:
                    seats = (PolicySeat(), PolicySeat())
                else:
                    other: Seat = opponent
                    seats = (PolicySeat(), other) if learner == 0 else (other, PolicySeat())
            agent_seeds = tuple(int(s) for s in self.rng.integers(_SEED_HIGH, size=2))
            jobs.append(Job(label, env, seed, seats, agent_seeds))
        return jobs

    def _pick_opponent(self, label: str) -> Seat | None:
        """The opponent of one game in "fixed" or "league" mode; None for a self-play game."""
        from redqueen.league.matchmaking import pfsp_weights

        opp = self.config.opponents
        fixed = self._fixed.get(label, {})
        if opp.mode == "fixed":
            name = next(iter(fixed))
            return AgentSeat(fixed[name], name)
        if self.rng.random() < opp.self_play:
            return None
        candidates = [*fixed, *self.snapshots]
        if not candidates:
            return None
        if opp.matchmaking == "uniform":
            weights = np.full(len(candidates), 1.0 / len(candidates))
        else:
            rates = self._payoff.win_rates(LIVE, candidates)
            weights = pfsp_weights(rates, "var" if opp.matchmaking == "pfsp_var" else "hard")
        name = candidates[int(self.rng.choice(len(candidates), p=weights))]
        if name in fixed:
            return AgentSeat(fixed[name], name)
        return PolicySeat(name, train=False)

    def step(self) -> dict[str, float]:
        """One iteration: play, credit, update. Returns its training metrics."""
        config = self.config
        gen = config.generation
        algo = config.algorithm
        jobs = self._jobs()
        policies = {LIVE: self.policy, **self.snapshots}
        trajectories, stats = play_batch(
            jobs,
            policies,
            self.fmt,
            rng=self.rng,
            max_new_tokens=gen.max_new_tokens,
            temperature=gen.temperature,
            top_p=gen.top_p,
            invalid_reward=algo.invalid_reward,
            invalid_other_reward=algo.invalid_other_reward,
        )
        self.games_played += len(jobs)
        self._record_games(trajectories)
        if algo.advantage == "mars":
            mars_advantages(trajectories, algo.gamma, std=algo.mars_std)
        else:
            outcome_advantages(trajectories, self.baselines if algo.advantage == "rae" else None, algo.gamma)
        turns = [t for traj in trajectories for t in traj.turns]
        metrics = self.update(turns)
        metrics.update(
            {
                "train/invalid_rate": stats.rate(stats.invalid),
                "train/reply_chars": stats.rate(stats.chars),
                "train/reply_tokens": stats.rate(stats.tokens),
                "train/unfinished_rate": stats.rate(stats.unfinished),
                "train/turns": float(len(turns)),
                "train/lr": self._lr(),
            }
        )
        for (game, role), value in sorted(self.baselines.values.items()):
            metrics[f"train/baseline/{game}/p{role}"] = value
        return metrics

    def _record_games(self, trajectories: list[Trajectory]) -> None:
        """League games (a seat that is not the live policy) go to the payoff table and the store."""
        if self.config.opponents.mode == "self_play":
            return
        from redqueen.league.store import MatchRecord

        records = []
        for traj in trajectories:
            if all(s == LIVE for s in traj.seats):
                continue
            seat = traj.seats.index(LIVE)
            other = traj.seats[1 - seat]
            mine, theirs = traj.game_returns[seat], traj.game_returns[1 - seat]
            self._payoff.update(LIVE, other, 1.0 if mine > theirs else 0.0 if mine < theirs else 0.5)
            records.append(
                MatchRecord(
                    key=f"train/{self.iteration}/{traj.index}",
                    game_id=self.games[traj.game].id,
                    seats=traj.seats,
                    seed=0,
                    returns=tuple(float(r) for r in traj.game_returns),
                    invalid=tuple(int(i) for i in traj.invalid),
                    length=len(traj.turns),
                    duration=0.0,
                    runner="llm-selfplay",
                )
            )
        if records:
            self.store().record_matches(records)

    def _lr(self) -> float:
        algo = self.config.algorithm
        progress = min(1.0, self.iteration / max(1, self.config.iterations))
        if algo.lr_schedule == "linear":
            return algo.lr + (algo.lr_final - algo.lr) * progress
        if algo.lr_schedule == "cosine":
            return algo.lr_final + 0.5 * (algo.lr - algo.lr_final) * (1.0 + math.cos(math.pi * progress))
        return algo.lr

    def _magnet_logq(self, prompt: str, answers: tuple[str, ...]) -> Any:
        key = prompt + "\x00" + "\x00".join(answers)
        cached = self._magnet_cache.get(key)
        if cached is None:
            assert self.magnet is not None
            cached = legal_distribution(self.magnet.score([prompt], [list(answers)], eos=self.fmt.eos))[0]
            self._magnet_cache[key] = cached
        return cached

    def update(self, turns: list[Turn]) -> dict[str, float]:
        """``epochs`` passes of the loss over ``turns`` (see the module docstring)."""
        import torch

        config = self.config
        algo = config.algorithm
        temperature = config.generation.temperature
        samples = [t for t in turns if not (algo.drop_zero_advantage and t.advantage == 0.0)]
        out: dict[str, float] = {
            "train/samples": float(len(samples)),
            "train/advantage_abs": float(np.mean([abs(t.advantage) for t in turns])) if turns else 0.0,
        }
        if not samples:
            return out
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr()
        prompts = [t.prompt_ids for t in samples]
        replies = [t.reply_ids for t in samples]
        advantages = torch.tensor([t.advantage for t in samples], dtype=torch.float32)
        with torch.no_grad():
            old, _ = self.policy.token_logprobs(prompts, replies, temperature=temperature)
            ref = None
            if self.reference is not None:
                ref, _ = self.reference.token_logprobs(prompts, replies, temperature=temperature)
        normalizer = algo.normalizer or float(config.generation.max_new_tokens)
        regularise = bool(algo.magnet_coef or algo.entropy_coef)
        n = len(samples)
        size = algo.minibatch or n
        totals: dict[str, list[float]] = {}
        params = self.policy.trainable_parameters()
        for _ in range(algo.epochs):
            order = self.rng.permutation(n)
            for start in range(0, n, size):
                idx = order[start : start + size]
                sub_p = [prompts[i] for i in idx]
                sub_r = [replies[i] for i in idx]
                logp, mask = self.policy.token_logprobs(sub_p, sub_r, temperature=temperature, grad=True)
                width = logp.shape[1]
                index = torch.as_tensor(idx)
                old_sub = old[index][:, -width:]
                loss, stats = policy_loss(
                    logp,
                    old_sub,
                    advantages[index],
                    mask,
                    kind=algo.loss,
                    clip=algo.clip,
                    aggregation=algo.aggregation,
                    normalizer=normalizer,
                )
                record = {
                    "train/pg_loss": float(loss.detach()),
                    **{f"train/{k}": v for k, v in stats.items()},
                }
                if ref is not None:
                    kl = k3_kl(logp, ref[index][:, -width:], mask, algo.aggregation, normalizer)
                    loss = loss + algo.kl_coef * kl
                    record["train/kl_ref"] = float(kl.detach())
                if regularise:
                    counts: dict[tuple[str, tuple[str, ...]], int] = {}
                    for i in idx:
                        key = (samples[i].prompt, samples[i].answers)
                        counts[key] = counts.get(key, 0) + 1
                    keys = list(counts)
                    scores = self.policy.score(
                        [k[0] for k in keys], [list(k[1]) for k in keys], eos=self.fmt.eos, grad=True
                    )
                    log_q = legal_distribution(scores)
                    log_m = [self._magnet_logq(*k) for k in keys] if self.magnet is not None else None
                    kl_m, entropy = legal_regulariser(log_q, log_m, [counts[k] for k in keys])
                    loss = loss + algo.magnet_coef * kl_m - algo.entropy_coef * entropy
                    record["train/kl_magnet"] = float(kl_m.detach())
                    record["train/entropy_legal"] = float(entropy.detach())
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                norm = torch.nn.utils.clip_grad_norm_(params, algo.max_grad_norm)
                self.optimizer.step()
                record["train/loss"] = float(loss.detach())
                record["train/grad_norm"] = float(norm)
                for key, value in record.items():
                    totals.setdefault(key, []).append(value)
        out.update({k: float(np.mean(v)) for k, v in totals.items()})
        return out

    # ---- evaluation ------------------------------------------------------------------------------
    def policy_agent(self, name: str = "policy", seed: int | None = None) -> PolicyAgent:
        """The current policy as a text agent (for :func:`redqueen.play`, leagues, exact evaluation)."""
        gen = self.config.generation
        return PolicyAgent(
            self.policy,
            self.fmt,
            max_new_tokens=gen.max_new_tokens,
            temperature=gen.temperature,
            top_p=gen.top_p,
            name=name,
            seed=seed,
        )

    def _exact(self, label: str) -> bool:
        entry = self.entries[label]
        if entry.exploitability == "auto":  # one-hand Kuhn poker: 12 information states
            return entry.id == "kuhn_poker" and self.games[label].openspiel_game() is not None
        return entry.exploitability == "true"

    def evaluate(self) -> dict[str, float]:
        """Measure the current policy (see the module docstring); logs and returns the numbers."""
        from redqueen.evaluation import expected_returns, exploitability, exploitability_exact

        started = time.perf_counter(), time.process_time()
        config = self.config
        gen = config.generation
        agent = self.policy_agent()
        out: dict[str, float] = {}
        rng = np.random.default_rng([config.eval.seed, self.iteration])
        replies = invalid = chars = tokens = 0
        for label, game in self.games.items():
            if self._exact(label):
                if game.openspiel_game() is not None:
                    out[f"eval/{label}/exploitability"] = exploitability(agent, game)
                else:
                    out[f"eval/{label}/exploitability"] = exploitability_exact(agent, game)
                first = expected_returns([agent, RandomAgent()], game)[0]
                second = expected_returns([RandomAgent(), agent], game)[1]
                out[f"eval/{label}/exact_vs_random/p0"] = float(first)
                out[f"eval/{label}/exact_vs_random/p1"] = float(second)
                out[f"eval/{label}/exact_vs_random"] = float(first + second) / 2
                masses = [mass for _, mass in agent._probs.values()]
                out[f"eval/{label}/legal_mass_min"] = float(min(masses))
            for spec in config.eval.opponents:
                opponent = self._eval_agent(spec, label)
                if opponent is None:
                    continue
                name = _agent_label(spec)
                jobs = []
                for k in range(config.eval.games):
                    seat = k % 2
                    other = AgentSeat(opponent, name)
                    learner = PolicySeat(LIVE, train=False)
                    seats: tuple[Seat, Seat] = (learner, other) if seat == 0 else (other, learner)
                    seeds = tuple(int(s) for s in rng.integers(_SEED_HIGH, size=2))
                    jobs.append(Job(label, TextEnv(game), int(rng.integers(_SEED_HIGH)), seats, seeds))
                trajs, stats = play_batch(
                    jobs,
                    {LIVE: self.policy},
                    self.fmt,
                    rng=rng,
                    max_new_tokens=gen.max_new_tokens,
                    temperature=gen.temperature,
                    top_p=gen.top_p,
                )
                replies += stats.replies.get(LIVE, 0)
                invalid += stats.invalid.get(LIVE, 0)
                chars += stats.chars.get(LIVE, 0)
                tokens += stats.tokens.get(LIVE, 0)
                for seat in (0, 1):
                    rows = [t for t in trajs if t.seats[seat] == LIVE]
                    mine = np.array([t.game_returns[seat] for t in rows])
                    theirs = np.array([t.game_returns[1 - seat] for t in rows])
                    wins, draws = int((mine > theirs).sum()), int((mine == theirs).sum())
                    n = len(rows)
                    low, high = wilson(wins, n)
                    prefix = f"eval/{label}/vs_{name}/p{seat}"
                    out[f"{prefix}/win"] = wins / n if n else float("nan")
                    out[f"{prefix}/win_low"] = low
                    out[f"{prefix}/win_high"] = high
                    out[f"{prefix}/draw"] = draws / n if n else float("nan")
                    out[f"{prefix}/loss"] = (n - wins - draws) / n if n else float("nan")
                    out[f"{prefix}/return"] = float(mine.mean()) if n else float("nan")
                    invalid_games = sum(int(t.invalid[seat] > 0) for t in rows)
                    out[f"{prefix}/invalid_games"] = invalid_games / n if n else float("nan")
        out["eval/invalid_rate"] = invalid / replies if replies else float("nan")
        out["eval/reply_chars"] = chars / replies if replies else float("nan")
        out["eval/reply_tokens"] = tokens / replies if replies else float("nan")
        self._tick(started)
        self.last_eval = out
        self.history.append({"iteration": float(self.iteration), "wall_s": self.wall, **out})
        self.log.write(self.iteration, self.games_played, self.wall, self.cpu, out)
        if config.log.plot and self.iteration:
            self.plot()
        return out

    def exact_return_vs_random(self, label: str | None = None) -> float:
        """The policy's exact expected return against uniform random play, averaged over the seats
        (games with information states small enough to walk, e.g. Kuhn poker)."""
        from redqueen.evaluation import expected_returns

        game = self.games[label or next(iter(self.games))]
        agent = self.policy_agent()
        first = expected_returns([agent, RandomAgent()], game)[0]
        second = expected_returns([RandomAgent(), agent], game)[1]
        return float(first + second) / 2

    def plot(self) -> Path | None:
        """Draw the run's curves into ``curves.png`` (needs matplotlib; None without it)."""
        from redqueen.trainers.llm_selfplay.plots import plot_run

        try:
            return plot_run(self.out)
        except ImportError:
            return None

    # ---- checkpoints -----------------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Any]:
        return {
            "version": 1,
            "identity": self.config.identity(),
            "iteration": self.iteration,
            "games": self.games_played,
            "wall": self.wall,
            "cpu": self.cpu,
            "policy": self.policy.trainable_state(),
            "optimizer": self.optimizer.state_dict(),
            "baselines": self.baselines.state_dict(),
            "rng": self.rng.bit_generator.state,
            "reference": self.reference.trainable_state() if self.reference is not None else None,
            "magnet": self.magnet.trainable_state() if self.magnet is not None else None,
            "snapshots": {name: p.trainable_state() for name, p in self.snapshots.items()},
            "payoff": self._payoff.state_dict(),
            "history": self.history,
            "last_eval": self.last_eval,
        }

    def save_checkpoint(self) -> Path:
        """Write ``checkpoint.pt`` atomically (a reader never sees half a file)."""
        import torch

        from redqueen.league.store import atomic_save

        state = self.checkpoint_state()
        return atomic_save(self.out / CHECKPOINT, lambda tmp: torch.save(state, tmp))

    def load_checkpoint(self) -> bool:
        """Resume from the run folder's checkpoint; False when there is none."""
        import torch

        path = self.out / CHECKPOINT
        if not path.exists():
            return False
        state = torch.load(path, map_location=self.policy.device, weights_only=False)
        if state.get("identity") != self.config.identity():
            saved, now = state.get("identity", {}), self.config.identity()
            diff = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
            raise TrainerError(
                f"{path} was written by a run with another config (differs in: {', '.join(diff)}); "
                "use another out folder or the same config"
            )
        self.policy.load_trainable_state(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.baselines.load_state_dict(state["baselines"])
        self.rng.bit_generator.state = state["rng"]
        self.iteration = int(state["iteration"])
        self.games_played = int(state["games"])
        self.wall, self.cpu = float(state["wall"]), float(state["cpu"])
        for attr in ("reference", "magnet"):
            saved = state[attr]
            if saved is not None:
                copy = self.policy.frozen_copy(attr)
                copy.load_trainable_state(saved)
                setattr(self, attr, copy)
        self._magnet_cache = {}
        self.snapshots = {}
        for name, saved in state["snapshots"].items():
            copy = self.policy.frozen_copy(name)
            copy.load_trainable_state(saved)
            self.snapshots[name] = copy
        self._payoff = self._new_payoff()
        self._payoff.load_state_dict(state["payoff"])
        self.history = list(state["history"])
        self.last_eval = dict(state["last_eval"])
        self.log.truncate(self.iteration)
        self.policy.generator.sync(self.policy)
        return True


def train(
    config: SelfPlayConfig | Mapping[str, Any] | str | os.PathLike[str],
    *,
    progress: bool = False,
    on_iteration: Callable[[Trainer], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) the self-play training ``config`` describes: a :class:`SelfPlayConfig`, a dict
    as TOML reads it, or the path of a TOML file. Returns the summary (see :meth:`Trainer.summary`)."""
    if isinstance(config, str | os.PathLike):
        config = load_config(config)
    elif isinstance(config, Mapping):
        config = parse_config(config)
    elif not isinstance(config, SelfPlayConfig):
        raise TypeError(
            f"config must be a SelfPlayConfig, a dict or a TOML path, got {type(config).__name__}"
        )
    return Trainer(config, progress=progress, on_iteration=on_iteration).run()
