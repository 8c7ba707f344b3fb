"""The algorithm's parts, each a plain function of recorded games (so each can be checked by hand).

Rewards and advantages (``advantage =``):

* ``"rae"`` (SPIRAL's role-conditioned advantage estimation): every turn of player ``p`` in a game
  ``G`` gets ``(R_p - b_{G,p}) * gamma^(T_p - i - 1)`` (turn ``i`` of its ``T_p`` turns), where the
  baseline is an exponential moving average ``b <- alpha * b + (1 - alpha) * R_p`` (alpha 0.95) per
  game and role, read *before* it is updated with this game, as SPIRAL's code does, updated once per
  game in the order the games were played (:class:`RoleBaselines`, checkpointed);
* ``"none"``: the same without a baseline (``R_p * gamma^(T_p - i - 1)``);
* ``"mars"`` (MARS's turn-level advantages): each turn's reward is the change of the player's return
  up to its next turn (the last turn also gets the final training return); rewards are centred per
  game and player over the batch, summed into a reward-to-go with ``gamma``, and the advantages are
  normalised per game and player (mean removed; divided by the standard deviation with
  ``mars_std``) (:func:`mars_advantages`).

Losses over the reply tokens (:func:`policy_loss`): PPO-clip (``ratio = pi/pi_old`` clipped to
``1 +- clip``) or REINFORCE, aggregated per sample either as a token sum over a constant normaliser
(Dr. GRPO, SPIRAL's choice) or as a token mean, then averaged over the batch; an optional k3 KL to a
frozen reference (:func:`k3_kl`); for regularised self-play a KL pull toward a magnet policy and an
entropy bonus, both over the *legal moves* only (:func:`legal_regulariser`), so neither can reward
garbage text.

Invalid answers: a game that ended because a player's answer named no legal move pays the
training returns ``invalid_reward`` (-1.5) to the offender and ``invalid_other_reward`` (+0.5) to the
others (:func:`training_returns`), SPIRAL's numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Turn:
    """One decision of a trained seat: what it saw and answered, and what it is credited with."""

    game: str
    """The name of the game entry in the config (baselines and normalisation are kept per name)."""
    player: int
    prompt: str
    prompt_ids: tuple[int, ...]
    reply_ids: tuple[int, ...]
    reply: str
    invalid: bool
    answers: tuple[str, ...]
    """The canonical answers of the legal moves (for the legal-move regularisers)."""
    accumulated: float = 0.0
    """The player's return in the state when it answered (turn rewards are its changes)."""
    advantage: float = 0.0


@dataclass
class Trajectory:
    """One finished game: the trained seats' turns in order, the returns and how it ended."""

    game: str
    index: int
    turns: list[Turn]
    game_returns: np.ndarray
    returns: np.ndarray
    """Training returns: ``game_returns``, or the invalid-answer returns when a seat forfeited."""
    forfeit: int | None
    seats: tuple[str, ...] = ()
    """Who sat where (``"live"`` for the policy being trained)."""
    invalid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def player_turns(self, player: int) -> list[Turn]:
        return [t for t in self.turns if t.player == player]


def training_returns(
    game_returns: np.ndarray,
    forfeit: int | None,
    *,
    invalid_reward: float = -1.5,
    invalid_other_reward: float = 0.5,
) -> np.ndarray:
    """The returns the trainer learns from: the game's, or, when seat ``forfeit`` gave an invalid
    answer, ``invalid_reward`` for it and ``invalid_other_reward`` for everyone else."""
    returns = np.asarray(game_returns, dtype=np.float64).copy()
    if forfeit is not None:
        returns[:] = invalid_other_reward
        returns[forfeit] = invalid_reward
    return returns


class RoleBaselines:
    """Exponential moving averages of the return, one per (game, role), starting at 0 (SPIRAL's
    RAE). :meth:`advantage` reads the baseline, then updates it with the new return."""

    def __init__(self, decay: float = 0.95):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"the RAE decay must be in [0, 1), got {decay}")
        self.decay = float(decay)
        self.values: dict[tuple[str, int], float] = {}

    def get(self, game: str, role: int) -> float:
        return self.values.get((game, int(role)), 0.0)

    def advantage(self, game: str, role: int, ret: float) -> float:
        """``ret - b`` with ``b`` the baseline before this return; then ``b <- a b + (1 - a) ret``."""
        key = (game, int(role))
        before = self.values.get(key, 0.0)
        self.values[key] = self.decay * before + (1.0 - self.decay) * float(ret)
        return float(ret) - before

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "values": [[g, r, v] for (g, r), v in sorted(self.values.items())]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.decay = float(state["decay"])
        self.values = {(str(g), int(r)): float(v) for g, r, v in state["values"]}


def outcome_advantages(
    trajectories: Sequence[Trajectory], baselines: RoleBaselines | None, gamma: float = 1.0
) -> None:
    """SPIRAL's credit (``"rae"`` with ``baselines``, ``"none"`` without): sets ``turn.advantage`` for
    every trained turn; baselines are updated once per game and player, games in order."""
    for traj in trajectories:
        for player in sorted({t.player for t in traj.turns}):
            turns = traj.player_turns(player)
            ret = float(traj.returns[player])
            centred = baselines.advantage(traj.game, player, ret) if baselines is not None else ret
            n = len(turns)
            for i, turn in enumerate(turns):
                turn.advantage = centred * gamma ** (n - i - 1)


def turn_rewards(traj: Trajectory, player: int) -> list[float]:
    """The reward of each of ``player``'s turns: the change of its return until its next turn, and
    for the last turn, up to its final training return."""
    turns = traj.player_turns(player)
    marks = [t.accumulated for t in turns] + [float(traj.returns[player])]
    return [marks[i + 1] - marks[i] for i in range(len(turns))]


def mars_advantages(trajectories: Sequence[Trajectory], gamma: float = 1.0, std: bool = False) -> None:
    """MARS's turn-level advantages (see the module docstring); sets ``turn.advantage``."""
    groups: dict[tuple[str, int], list[tuple[Trajectory, int]]] = {}
    for traj in trajectories:
        for player in sorted({t.player for t in traj.turns}):
            groups.setdefault((traj.game, player), []).append((traj, player))
    for members in groups.values():
        rewards = [turn_rewards(traj, player) for traj, player in members]
        mean_reward = float(np.mean([r for rs in rewards for r in rs]))
        returns_to_go = []
        for rs in rewards:
            total, out = 0.0, []
            for r in reversed(rs):
                total = (r - mean_reward) + gamma * total
                out.append(total)
            returns_to_go.append(out[::-1])
        flat = np.array([g for gs in returns_to_go for g in gs], dtype=np.float64)
        mean, spread = float(flat.mean()), float(flat.std())
        for (traj, player), gs in zip(members, returns_to_go, strict=True):
            for turn, g in zip(traj.player_turns(player), gs, strict=True):
                value = g - mean
                if std:
                    value = value / (spread + 1e-8)
                turn.advantage = float(value)


def policy_loss(
    logp: Any,
    old_logp: Any,
    advantages: Any,
    mask: Any,
    *,
    kind: str = "ppo",
    clip: float = 0.2,
    aggregation: str = "sum",
    normalizer: float = 1.0,
) -> tuple[Any, dict[str, float]]:
    """The policy-gradient loss of a batch of replies and a few statistics.

    ``logp``/``old_logp``/``mask``: ``(batch, tokens)``; ``advantages``: ``(batch,)``. ``kind``:
    ``"ppo"`` (``max(-A r, -A clip(r, 1-clip, 1+clip))`` per token, ``r = exp(logp - old_logp)``) or
    ``"reinforce"`` (``-A logp``). ``aggregation``: ``"sum"`` (token sum / ``normalizer``, Dr. GRPO) or
    ``"mean"`` (token mean of each reply); then the mean over the batch.
    """
    import torch

    adv = advantages.unsqueeze(-1)
    stats: dict[str, float] = {}
    if kind == "ppo":
        ratio = torch.exp(logp - old_logp)
        clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
        per_token = torch.maximum(-adv * ratio, -adv * clipped)
        with torch.no_grad():
            outside = ((ratio - 1.0).abs() > clip).float()
            stats["clip_fraction"] = float((outside * mask).sum() / mask.sum().clamp(min=1.0))
    elif kind == "reinforce":
        per_token = -adv * logp
    else:
        raise ValueError(f"unknown loss {kind!r}; use 'ppo' or 'reinforce'")
    per_sample = aggregate(per_token, mask, aggregation, normalizer)
    return per_sample.mean(), stats


def aggregate(per_token: Any, mask: Any, aggregation: str, normalizer: float) -> Any:
    """Per-sample sum of ``per_token * mask`` divided by ``normalizer`` (``"sum"``) or by the number of
    tokens (``"mean"``)."""
    summed = (per_token * mask).sum(-1)
    if aggregation == "sum":
        return summed / float(normalizer)
    if aggregation == "mean":
        return summed / mask.sum(-1).clamp(min=1.0)
    raise ValueError(f"unknown aggregation {aggregation!r}; use 'sum' or 'mean'")


def k3_kl(logp: Any, ref_logp: Any, mask: Any, aggregation: str = "sum", normalizer: float = 1.0) -> Any:
    """The k3 estimate of KL(pi || ref) on the sampled tokens, ``exp(d) - d - 1`` with
    ``d = ref_logp - logp``, aggregated like the policy loss and averaged over the batch."""
    import torch

    d = ref_logp - logp
    return aggregate(torch.exp(d) - d - 1.0, mask, aggregation, normalizer).mean()


def legal_distribution(scores: Sequence[Any]) -> list[Any]:
    """Per decision, the log-probabilities of the legal moves renormalised over the legal moves."""
    import torch

    return [s - torch.logsumexp(s, dim=-1) for s in scores]


def legal_regulariser(
    log_q: Sequence[Any], log_magnet: Sequence[Any] | None, weights: Sequence[float]
) -> tuple[Any, Any]:
    """(KL(q || magnet), entropy of q), weighted means over decisions (``weights``: how often each
    decision occurs in the batch), both over the legal moves (``log_q`` from
    :func:`legal_distribution`)."""
    import torch

    w = torch.tensor(list(weights), dtype=torch.float32)
    w = w / w.sum()
    entropy = torch.stack([-(lq.exp() * lq).sum() for lq in log_q])
    if log_magnet is None:
        kl = torch.zeros_like(entropy)
    else:
        kl = torch.stack([(lq.exp() * (lq - lm)).sum() for lq, lm in zip(log_q, log_magnet, strict=True)])
    return (kl * w).sum(), (entropy * w).sum()


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a rate (95% by default); (0, 1) when ``n == 0``."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))
