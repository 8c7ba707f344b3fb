"""Rollouts: many games at once through redqueen's text env, one batched generation call per round.

:func:`play_batch` plays a list of :class:`Job` s, each a :class:`~redqueen.envs.text.TextEnv` game
with one *seat* per player: a :class:`PolicySeat` (a policy, the live one or a frozen snapshot,
whose prompts are gathered over all games and answered in one batch) or an :class:`AgentSeat`
(any :class:`~redqueen.agents.Agent`: scripted experts, SB3 models, LLM agents; it gets the same
observation the match runner gives it, and a tensor agent's action is written as its move text).
The env parses every reply with the game's ``parse_action`` and applies its invalid-answer policy;
each answer of a seat that trains becomes a :class:`~redqueen.trainers.llm_selfplay.algorithm.Turn`.

:class:`PolicyAgent` is a policy as an ordinary text agent, so the match runner
(:func:`redqueen.play`), leagues and exact evaluation (:func:`redqueen.evaluation.exploitability`,
from the log-probabilities of the canonical answers) use it like any other agent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from redqueen.agents.base import Agent
from redqueen.envs.text import TextEnv
from redqueen.game import agent_observation
from redqueen.trainers.llm_selfplay.algorithm import Trajectory, Turn, training_returns
from redqueen.trainers.llm_selfplay.formats import PromptFormat
from redqueen.trainers.llm_selfplay.policy import Policy

_SEED_HIGH = 2**31 - 1
LIVE = "live"


@dataclass(frozen=True)
class PolicySeat:
    """A seat answered by the policy ``key`` (``"live"`` or a snapshot's name); ``train``: its turns
    become training samples."""

    key: str = LIVE
    train: bool = True

    @property
    def name(self) -> str:
        return self.key


@dataclass(frozen=True)
class AgentSeat:
    """A seat played by an agent."""

    agent: Agent
    name: str


Seat = PolicySeat | AgentSeat


@dataclass
class Job:
    """One game to play: the config entry's name, its text env, the deal's seed and the seats."""

    game: str
    env: TextEnv
    seed: int
    seats: tuple[Seat, ...]
    agent_seeds: tuple[int, ...] = ()


@dataclass
class RolloutStats:
    """What the policies' replies looked like in a batch (per policy key)."""

    replies: dict[str, int] = field(default_factory=dict)
    invalid: dict[str, int] = field(default_factory=dict)
    chars: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    unfinished: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, reply_chars: int, reply_tokens: int, invalid: bool, finished: bool) -> None:
        self.replies[key] = self.replies.get(key, 0) + 1
        self.invalid[key] = self.invalid.get(key, 0) + int(invalid)
        self.chars[key] = self.chars.get(key, 0) + reply_chars
        self.tokens[key] = self.tokens.get(key, 0) + reply_tokens
        self.unfinished[key] = self.unfinished.get(key, 0) + int(not finished)

    def rate(self, table: Mapping[str, int], key: str = LIVE) -> float:
        n = self.replies.get(key, 0)
        return float(table.get(key, 0)) / n if n else float("nan")


def _agent_reply(agent: Agent, env: TextEnv, player: int) -> Any:
    state = env.state
    reply = agent.act(agent_observation(state, player, agent.view))
    if agent.view == "tensor" and not isinstance(reply, str):
        try:
            return f"[{state.action_to_text(player, int(reply))}]"
        except Exception:
            return repr(reply)  # not a move: the env counts it as an invalid answer
    return reply


def play_batch(
    jobs: Sequence[Job],
    policies: Mapping[str, Policy],
    fmt: PromptFormat,
    *,
    rng: np.random.Generator,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    invalid_reward: float = -1.5,
    invalid_other_reward: float = 0.5,
) -> tuple[list[Trajectory], RolloutStats]:
    """Play every job to the end (see the module docstring); ``rng`` seeds the sampling. Returns one
    trajectory per job, in job order, and the reply statistics."""
    stats = RolloutStats()
    turns: list[list[Turn]] = [[] for _ in jobs]
    finals: list[dict[str, Any] | None] = [None] * len(jobs)
    for k, job in enumerate(jobs):
        job.env.reset(seed=job.seed)
        for i, seat in enumerate(job.seats):
            if isinstance(seat, AgentSeat):
                seat.agent.reset(seed=job.agent_seeds[i] if job.agent_seeds else None)
            elif seat.key not in policies:
                raise KeyError(f"job {k}: no policy named {seat.key!r} (have {sorted(policies)})")
    active = list(range(len(jobs)))
    while active:
        waiting: dict[str, list[tuple[int, int, dict[str, Any], str]]] = {}
        for k in active:
            job = jobs[k]
            env = job.env
            while finals[k] is None:
                player = env.current_player
                assert player is not None
                seat = job.seats[player]
                if isinstance(seat, PolicySeat):
                    obs = agent_observation(env.state, player, "text")
                    waiting.setdefault(seat.key, []).append((k, player, obs, fmt.prompt(obs)))
                    break
                _, _, done, _, info = env.step(_agent_reply(seat.agent, env, player))
                if done:
                    finals[k] = info
        for key, items in waiting.items():
            policy = policies[key]
            replies = policy.generate(
                [item[3] for item in items],
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                top_p=top_p,
                seed=int(rng.integers(_SEED_HIGH)),
            )
            for (k, player, obs, prompt), reply in zip(items, replies, strict=True):
                job = jobs[k]
                env = job.env
                seat = job.seats[player]
                accumulated = float(env.state.returns()[player])
                _, _, done, _, info = env.step(fmt.to_env(reply.text))
                stats.add(key, len(reply.text), len(reply.token_ids), bool(info["invalid"]), reply.finished)
                if isinstance(seat, PolicySeat) and seat.train and reply.token_ids:
                    turns[k].append(
                        Turn(
                            game=job.game,
                            player=player,
                            prompt=prompt,
                            prompt_ids=policy.encode(prompt),
                            reply_ids=reply.token_ids,
                            reply=reply.text,
                            invalid=bool(info["invalid"]),
                            answers=tuple(fmt.answers(obs)),
                            accumulated=accumulated,
                        )
                    )
                if done:
                    finals[k] = info
        active = [k for k in active if finals[k] is None]
    out = []
    for k, job in enumerate(jobs):
        info = finals[k]
        assert info is not None
        forfeit = info["forfeit"]
        returns = training_returns(
            np.asarray(info["returns"]),
            forfeit,
            invalid_reward=invalid_reward,
            invalid_other_reward=invalid_other_reward,
        )
        out.append(
            Trajectory(
                game=job.game,
                index=k,
                turns=turns[k],
                game_returns=np.asarray(info["game_returns"], dtype=np.float64),
                returns=returns,
                forfeit=forfeit,
                seats=tuple(seat.name for seat in job.seats),
                invalid=np.asarray(info["invalid_answers"], dtype=np.int64).copy(),
            )
        )
    return out, stats


class PolicyAgent(Agent):
    """A policy playing as a text agent (see the module docstring).

    ``act`` samples a reply (prefixed as the prompt format says); ``action_probabilities`` gives the
    probability of each legal move's canonical answer, renormalised over the legal moves (cached per
    prompt: make a new agent, or call :meth:`clear_cache`, after the weights change);
    :meth:`legal_mass` says how much probability those answers have before renormalising.
    """

    name = "policy"
    view = "text"

    def __init__(
        self,
        policy: Policy,
        fmt: PromptFormat | str = "compact",
        *,
        max_new_tokens: int = 6,
        temperature: float = 1.0,
        top_p: float = 1.0,
        name: str | None = None,
        seed: int | None = None,
    ):
        super().__init__(name, seed)
        self.policy = policy
        self.fmt = PromptFormat.named(fmt) if isinstance(fmt, str) else fmt
        self.max_new_tokens = int(max_new_tokens)
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self._probs: dict[str, tuple[dict[str, float], float]] = {}

    def clear_cache(self) -> None:
        self._probs = {}

    def fork(self) -> PolicyAgent:
        twin: PolicyAgent = self.shallow_fork()  # type: ignore[assignment]
        return twin

    def act(self, observation: Mapping[str, Any]) -> str:
        prompt = self.fmt.prompt(observation)
        reply = self.policy.generate(
            [prompt],
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            seed=int(self.rng.integers(_SEED_HIGH)),
        )[0]
        return self.fmt.to_env(reply.text)

    def _scored(self, observation: Mapping[str, Any]) -> tuple[dict[str, float], float]:
        prompt = self.fmt.prompt(observation)
        key = prompt + "\x00" + "\x00".join(map(str, observation["legal_moves"]))
        cached = self._probs.get(key)
        if cached is None:
            answers = self.fmt.answers(observation)
            logp = self.policy.score([prompt], [answers], eos=self.fmt.eos)[0].double().numpy()
            mass = float(np.exp(logp).sum())
            p = np.exp(logp - logp.max())
            p = p / p.sum()
            moves = [str(m) for m in observation["legal_moves"]]
            cached = ({m: float(x) for m, x in zip(moves, p, strict=True)}, mass)
            self._probs[key] = cached
        return cached

    def action_probabilities(self, observation: Mapping[str, Any]) -> dict[str, float]:
        return dict(self._scored(observation)[0])

    def legal_mass(self, observation: Mapping[str, Any]) -> float:
        """The probability that the policy's reply is exactly a legal move's canonical answer."""
        return self._scored(observation)[1]


def load_policy_agent(
    path: str | os.PathLike[str],
    prompt: str = "compact",
    *,
    name: str | None = None,
    seed: int | None = None,
    max_new_tokens: int = 6,
    temperature: float = 1.0,
) -> PolicyAgent:
    """A :class:`PolicyAgent` from a saved policy folder; the factory that league specs of trained
    snapshots name (``{type = "python", factory = "redqueen.trainers.llm_selfplay:load_policy_agent",
    path = ...}``)."""
    return PolicyAgent(
        Policy.load(path),
        prompt,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        name=name,
        seed=seed,
    )
