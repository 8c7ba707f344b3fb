"""An SB3 learner inside a league: PPO (MaskablePPO where sb3-contrib is installed) trained in the
single-agent adapter against opponents the league samples, one opponent per episode.

The pieces, usable on their own:

* :class:`LeagueOpponent`: an :class:`~redqueen.agents.Agent` that, at every reset (every episode of
  :class:`~redqueen.envs.single.SingleAgentEnv`), asks a ``choose(rng)`` function for an opponent
  (a :class:`~redqueen.league.matchmaking.Match`) and plays as that agent for the episode;
* :class:`OutcomeRecorder`: a Gymnasium wrapper counting the learner's wins, draws and losses per
  opponent (what PFSP's payoff table needs);
* :func:`new_model` / :func:`train_chunk`: make a learner, and train it ``steps`` steps from a
  checkpoint. A chunk loads the checkpoint, seeds everything from ``seed`` and trains, so the
  same checkpoint and seed give the same weights, whether the league ran without a break or was
  killed and resumed;
* :class:`Oracle`: an exact best response to the learner's live policy as one of its opponents;
* the whole loop (store, snapshots, matchmaking, metrics) is :class:`redqueen.league.manager.League`;
  the trainer here knows nothing about the store.

Any two-player game with discrete actions works (the tensor view and the action mask come from the
game). Torch runs with one thread unless ``OMP_NUM_THREADS`` says otherwise.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from redqueen.agents import Agent
from redqueen.game import Game, RedqueenError
from redqueen.league.matchmaking import Match
from redqueen.league.store import atomic_save

_SEED_HIGH = 2**63 - 1


class TrainerError(RedqueenError, RuntimeError):
    """A learner that cannot be made or trained (unsupported game, missing package, bad settings)."""


@contextmanager
def global_rngs_kept() -> Iterator[None]:
    """Run a block without changing the global generators of torch, numpy and ``random``.

    Building an opponent mid-training (an SB3 model's constructor initialises weights before it loads
    them) would otherwise move the learner's sampling streams, and a resumed run, which builds its
    opponents at other moments, would train differently."""
    import random

    import torch

    np_state = np.random.get_state()
    py_state = random.getstate()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


class LeagueOpponent(Agent):
    """Plays, in each episode, an opponent chosen at reset by ``choose(rng)``; ``build(name)`` gives
    the agent of a name (cache it: it is called once per episode). ``history`` lists every choice.

    The opponent plays the episode with a generator of this episode's own (swapped into the agent
    around each ``act``), so one agent object can serve several envs at once without their streams
    mixing."""

    name = "league"

    def __init__(self, choose: Callable[[np.random.Generator], Match], build: Callable[[str], Agent]):
        super().__init__()
        self._choose = choose
        self._build = build
        self.current: Agent | None = None
        self.match: Match | None = None
        self.history: list[Match] = []
        self._episode_rng: np.random.Generator | None = None

    @property  # type: ignore[override]
    def view(self) -> str:
        if self.current is None:
            raise RuntimeError("LeagueOpponent has no opponent before its first reset()")
        return self.current.view

    def reset(self, seed: int | None = None) -> None:
        rng = np.random.default_rng(seed)
        self.match = self._choose(rng)
        with global_rngs_kept():  # loading a model draws initial weights: keep the learner's streams
            self.current = self._build(self.match.opponent)
        self.current.reset(seed=int(rng.integers(_SEED_HIGH)))
        self._episode_rng = self.current.rng
        self.history.append(self.match)

    def act(self, observation: Mapping[str, Any]) -> int | str:
        current = self.current
        if current is None:
            raise RuntimeError("LeagueOpponent.act() before reset()")
        previous, current.rng = current.rng, self._episode_rng
        try:
            return current.act(observation)
        finally:
            self._episode_rng, current.rng = current.rng, previous


class OutcomeRecorder(gymnasium.Wrapper):
    """Counts the learner's results per opponent of a :class:`LeagueOpponent`-driven env:
    ``outcomes[name] = [wins, draws, losses]`` (higher return wins; equal returns draw)."""

    def __init__(self, env: gymnasium.Env, opponent: LeagueOpponent):
        super().__init__(env)
        self.opponent = opponent
        self.outcomes: dict[str, list[int]] = {}

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated and "returns" in info and self.opponent.match is not None:
            returns = np.asarray(info["returns"], dtype=np.float64)
            mine = returns[info["seat"]]
            theirs = np.delete(returns, info["seat"]).max()
            row = self.outcomes.setdefault(self.opponent.match.opponent, [0, 0, 0])
            row[0 if mine > theirs else 1 if mine == theirs else 2] += 1
        return obs, reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        return self.env.unwrapped.action_masks()  # type: ignore[attr-defined]


def algo_class(algo: str) -> type[Any]:
    """The SB3 class for a learner's ``algo`` (``"auto"``: MaskablePPO when sb3-contrib is installed)."""
    if algo in ("auto", "MaskablePPO"):
        try:
            from sb3_contrib import MaskablePPO
        except ImportError:
            if algo == "MaskablePPO":
                raise TrainerError(
                    "algo 'MaskablePPO' needs sb3-contrib: pip install 'redqueen[rl]'"
                ) from None
        else:
            return MaskablePPO
    if algo in ("auto", "PPO"):
        from stable_baselines3 import PPO

        return PPO
    raise TrainerError(f"unknown algo {algo!r}; use 'auto', 'MaskablePPO' or 'PPO'")


def check_game(game: Game) -> None:
    if game.num_players != 2:
        raise TrainerError(f"the SB3 league learner plays two-player games; {game.id} has {game.num_players}")
    if game.num_distinct_actions < 1:
        raise TrainerError(f"{game.id} has no discrete actions for an SB3 learner")


class ChunkLR:
    """A learning rate falling linearly from ``lr0`` to ``lr_final`` over the learner's whole budget,
    for a chunk that covers the fraction ``[start, end]`` of it (SB3 calls it with the chunk's own
    progress remaining). With ``lr_final = 0`` it stops at ``lr0 / 1000``, never exactly 0."""

    def __init__(self, lr0: float, start: float, end: float, lr_final: float = 0.0):
        self.lr0, self.start, self.end, self.lr_final = float(lr0), float(start), float(end), float(lr_final)

    def __call__(self, progress_remaining: float) -> float:
        done = min(1.0, self.start + (1.0 - progress_remaining) * (self.end - self.start))
        return max(self.lr0 * 1e-3, self.lr0 + (self.lr_final - self.lr0) * done)


def _env(game: Game, opponent: LeagueOpponent) -> OutcomeRecorder:
    from redqueen.envs.single import SingleAgentEnv

    return OutcomeRecorder(SingleAgentEnv(game, opponent=opponent, seat="alternate"), opponent)


def _vec(envs: list[OutcomeRecorder]) -> Any:
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    return DummyVecEnv([lambda env=env: Monitor(env) for env in envs])


def _single_thread() -> None:
    if "OMP_NUM_THREADS" not in os.environ:
        import torch

        torch.set_num_threads(1)


def new_model(
    game: Game,
    algo: str,
    *,
    seed: int,
    policy_kwargs: Mapping[str, Any] | None = None,
    hyperparams: Mapping[str, Any] | None = None,
    opponent: Agent | None = None,
) -> Any:
    """A fresh learner for ``game`` (seeded), not trained yet."""
    from redqueen.agents.base import RandomAgent

    check_game(game)
    _single_thread()
    cls = algo_class(algo)
    placeholder = opponent or RandomAgent()
    league_opponent = LeagueOpponent(lambda rng: Match("placeholder", "none"), lambda name: placeholder)
    params = dict(hyperparams or {})
    try:
        return cls(
            "MlpPolicy",
            _vec([_env(game, league_opponent)]),
            seed=int(seed % 2**32),
            policy_kwargs=dict(policy_kwargs or {}) or None,
            device="cpu",
            verbose=0,
            **params,
        )
    except TypeError as err:
        raise TrainerError(
            f"{cls.__name__} does not take these hyperparams {sorted(params)}: {err}"
        ) from None


def save_model(model: Any, path: str | os.PathLike[str]) -> Path:
    """Save an SB3 model atomically at ``path`` (a ``.zip``)."""
    return atomic_save(path, lambda tmp: model.save(tmp))


@dataclass
class ChunkResult:
    model: Any
    steps: int  # env steps trained in this chunk
    outcomes: dict[str, list[int]]
    branches: dict[str, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0


@dataclass(frozen=True)
class Oracle:
    """An exact best response to the learner's current policy, played with probability ``weight`` per
    episode and recomputed every ``refresh_every`` steps (at the start of a rollout)."""

    name: str
    weight: float = 1.0
    refresh_every: int = 2048
    deterministic: bool = False


class _Callback:
    """SB3 callback: step counts for a progress bar, and the oracle's refreshes."""

    def __init__(
        self, on_steps: Callable[[int], None] | None, refresh: Callable[[Any], None] | None, every: int
    ):
        from stable_baselines3.common.callbacks import BaseCallback

        outer = self
        self.on_steps = on_steps
        self.refresh = refresh
        self.every = every
        self.last = 0

        class Callback(BaseCallback):
            def _on_rollout_start(self) -> None:
                if outer.refresh is not None and self.model.num_timesteps - outer.last >= outer.every:
                    outer.refresh(self.model)
                    outer.last = self.model.num_timesteps

            def _on_step(self) -> bool:
                if outer.on_steps is not None:
                    outer.on_steps(self.training_env.num_envs)
                return True

        self.callback = Callback()


def train_chunk(
    game: Game,
    algo: str,
    checkpoint: str | os.PathLike[str],
    steps: int,
    *,
    seed: int,
    choose: Callable[[np.random.Generator], Match],
    build: Callable[[str], Agent],
    learning_rate: ChunkLR | None = None,
    n_envs: int = 1,
    oracle: Oracle | None = None,
    on_steps: Callable[[int], None] | None = None,
) -> ChunkResult:
    """Train the model saved at ``checkpoint`` for ``steps`` env steps in ``n_envs`` envs against
    opponents drawn by ``choose`` (one per episode) and, with ``oracle``, an exact best response to
    the learner itself (:class:`~redqueen.agents.best_response.BestResponseAgent`, for games
    OpenSpiel can solve). Returns the model, the steps it really trained (SB3 trains whole
    rollouts) and the outcomes per opponent."""
    check_game(game)
    _single_thread()
    cls = algo_class(algo)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    exploiter: Any = None
    pick, make = choose, build
    if oracle is not None:

        def pick(rng: np.random.Generator) -> Match:
            if rng.random() < oracle.weight:
                return Match(oracle.name, "oracle")
            return choose(rng)

        def make(name: str) -> Agent:
            return exploiter if name == oracle.name else build(name)

    opponents = [LeagueOpponent(pick, make) for _ in range(int(n_envs))]
    envs = [_env(game, opponent) for opponent in opponents]
    model = cls.load(checkpoint, env=_vec(envs), device="cpu")
    refresh = None
    if oracle is not None:
        from redqueen.agents.best_response import BestResponseAgent
        from redqueen.agents.sb3 import SB3Agent

        def refresh(current: Any) -> None:
            exploiter.update(SB3Agent(current, deterministic=oracle.deterministic))

        exploiter = BestResponseAgent(
            SB3Agent(model, deterministic=oracle.deterministic), game, name=oracle.name
        )
    if learning_rate is not None:
        model.learning_rate = learning_rate
        model.lr_schedule = learning_rate
    model.set_random_seed(int(seed % 2**32))
    before = int(model.num_timesteps)
    callback = _Callback(on_steps, refresh, oracle.refresh_every if oracle is not None else 0)
    callback.last = before
    model.learn(total_timesteps=int(steps), reset_num_timesteps=False, callback=callback.callback)
    outcomes: dict[str, list[int]] = {}
    branches: dict[str, int] = {}
    for env in envs:
        for name, row in env.outcomes.items():
            total = outcomes.setdefault(name, [0, 0, 0])
            for i in range(3):
                total[i] += row[i]
    for opponent in opponents:
        for match in opponent.history:
            branches[match.branch] = branches.get(match.branch, 0) + 1
    return ChunkResult(
        model=model,
        steps=int(model.num_timesteps) - before,
        outcomes=outcomes,
        branches=branches,
        cpu_seconds=time.process_time() - cpu0,
        wall_seconds=time.perf_counter() - wall0,
    )
