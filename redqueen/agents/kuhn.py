"""Kuhn poker's Nash equilibria as an agent.

Kuhn poker has a one-parameter family of equilibria for the player who acts first in a hand
(``alpha`` in [0, 1/3]) and a unique equilibrium for the player who acts second; the game's value is
-1/18 for the first player. :class:`KuhnNashAgent` plays them from the tensor view only: it decodes
its position in the hand, its card and the betting so far from the first 11 numbers of the
observation (OpenSpiel's ``information_state_tensor`` layout), so it plays every hand of a
multi-hand match (``KuhnPoker(rounds=N)``) and PettingZoo observations alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from redqueen.agents.base import Agent

PASS, BET = 0, 1
HAND_TENSOR_SIZE = 11
MAX_ALPHA = 1.0 / 3.0
_CARDS = "JQK"


def decode_hand(observation: Any) -> tuple[int, int, str]:
    """(position in the hand, card 0..2, betting so far as 'p'/'b' moves) from a Kuhn tensor.

    Reads the first 11 numbers: a position one-hot (2), a card one-hot (3) and one (pass, bet) one-hot
    pair per betting step (3). Raises ValueError when they are not such an encoding.
    """
    try:
        flat = np.asarray(observation, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(
            f"a Kuhn poker observation must be numeric, got {type(observation).__name__}"
        ) from None
    if flat.size < HAND_TENSOR_SIZE:
        raise ValueError(
            f"a Kuhn poker observation has at least {HAND_TENSOR_SIZE} numbers, "
            f"got shape {np.shape(observation)}"
        )
    head = flat[:HAND_TENSOR_SIZE]
    if not np.all((head == 0.0) | (head == 1.0)):
        raise ValueError(
            f"not a Kuhn poker observation: the first 11 numbers must be 0 or 1, got {head.tolist()}"
        )
    if head[0:2].sum() != 1.0 or head[2:5].sum() != 1.0:
        raise ValueError(
            "not a Kuhn poker observation of a player holding a card "
            f"(position and card must be one-hot), got {head.tolist()}"
        )
    position = int(np.argmax(head[0:2]))
    card = int(np.argmax(head[2:5]))
    moves = ""
    ended = False
    for step in range(3):
        pair = head[5 + 2 * step : 7 + 2 * step]
        if pair.sum() == 0.0:
            ended = True
            continue
        if ended or pair.sum() != 1.0:
            raise ValueError(f"not a Kuhn poker observation: malformed betting encoding {head[5:].tolist()}")
        moves += "pb"[int(pair[1])]
    return position, card, moves


class KuhnNashAgent(Agent):
    """A Nash-equilibrium player of Kuhn poker, from either seat and in every hand of a match.

    First to act in the hand (``alpha`` in [0, 1/3]): with J bet with probability alpha and fold to a
    bet; with Q check, and after check-bet call with probability alpha + 1/3; with K bet with probability
    3 alpha and call after check-bet. Second to act: with K bet after a check and call a bet; with Q
    check after a check and call a bet with probability 1/3; with J bet after a check with probability
    1/3 and fold to a bet.
    """

    name = "kuhn_nash"
    view = "tensor"

    def __init__(self, alpha: float = 0.0, name: str | None = None, seed: int | None = None):
        if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.integer | np.floating):
            raise TypeError(f"alpha must be a number in [0, 1/3], got {alpha!r}")
        alpha = float(alpha)
        if not math.isfinite(alpha) or alpha < 0.0 or alpha > MAX_ALPHA + 1e-12:
            raise ValueError(f"alpha must lie in [0, 1/3] for a Kuhn poker equilibrium, got {alpha!r}")
        self.alpha = min(alpha, MAX_ALPHA)
        if name is None and self.alpha != 0.0:
            name = f"kuhn_nash(alpha={self.alpha:.4g})"
        super().__init__(name, seed)

    def bet_probability(self, position: int, card: int, moves: str) -> float:
        """Probability of action 1 (bet or call) at this decision of a hand."""
        a = self.alpha
        if position == 0 and moves == "":
            return (a, 0.0, 3.0 * a)[card]
        if position == 0 and moves == "pb":
            return (0.0, a + 1.0 / 3.0, 1.0)[card]
        if position == 1 and moves == "p":
            return (1.0 / 3.0, 0.0, 1.0)[card]
        if position == 1 and moves == "b":
            return (0.0, 1.0 / 3.0, 1.0)[card]
        raise ValueError(
            f"no decision for the {'first' if position == 0 else 'second'} player "
            f"after betting {moves!r} in Kuhn poker; is it this agent's turn?"
        )

    def action_probabilities(self, observation: Mapping[str, Any]) -> dict[int, float]:
        if not isinstance(observation, Mapping) or "observation" not in observation:
            raise ValueError(
                "KuhnNashAgent needs a tensor-view observation dict with an 'observation' entry, "
                f"got {type(observation).__name__}"
            )
        mask = observation.get("action_mask")
        if mask is not None and not np.array_equal(np.asarray(mask).ravel()[:2] != 0, [True, True]):
            raise ValueError(f"the action mask {np.asarray(mask).tolist()} does not allow both pass and bet")
        position, card, moves = decode_hand(observation["observation"])
        p_bet = self.bet_probability(position, card, moves)
        return {PASS: 1.0 - p_bet, BET: p_bet}

    def act(self, observation: Mapping[str, Any]) -> int:
        p_bet = self.action_probabilities(observation)[BET]
        # one uniform draw: never bets when p_bet == 0, always when p_bet == 1
        return BET if self.rng.random() < p_bet else PASS

    def __repr__(self) -> str:
        return f"KuhnNashAgent(alpha={self.alpha:.6g}, name={self.name!r})"
