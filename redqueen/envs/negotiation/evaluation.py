"""Evaluation of negotiations: agreement rate, Pareto-optimality of the outcome, joint and individual value.

The value each player gets from a finished game (its *points*, before any objective dial) is:

* Deal or No Deal: the value of its items to it (0-10; 0 without a deal);
* resource trading: the gain in its inventory value at its own prices;
* price bargaining: its surplus (price - cost for the seller, value - price for the buyer; 0 without a
  deal).

An outcome is *Pareto-optimal* when no other outcome of the same scenario gives one player more
points and the other no fewer. It is decided exactly: Deal or No Deal against every split of the
items (no deal included); resource trading against every reallocation of the two players' pooled
resources (a knapsack over the integer holdings); price bargaining against every price and no deal.
"Agreed" means a deal was made (Deal or No Deal: accepted, or complementary selections in the fair
variant; trading: at least one trade; bargaining: an accepted price). A game that ended by a forfeit
has no deal.

:func:`outcome` reads one finished state, :func:`summarize` a list of outcomes, and :func:`evaluate`
plays a match with :func:`redqueen.play` and reports per agent (seats swapped by default)::

    from redqueen.envs.negotiation import FairSplitter, GreedyProposer
    from redqueen.envs.negotiation.evaluation import evaluate

    report = evaluate("negotiation", [GreedyProposer(), FairSplitter()], n_games=200, seed=0)
    report.agreement_rate, report.pareto_rate, report.mean_points   # points per agent
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from redqueen.envs.negotiation.bargaining import MAX_PRICE, MIN_PRICE, PriceBargainingState
from redqueen.envs.negotiation.deal_or_no_deal import DealOrNoDealState, Scenario
from redqueen.envs.negotiation.trading import ResourceTradingState, TradingScenario
from redqueen.game import State

__all__ = [
    "NegotiationReport",
    "Outcome",
    "agreement_rate",
    "evaluate",
    "is_pareto_optimal",
    "joint_value",
    "mean_return",
    "outcome",
    "pareto_frontier",
    "points",
    "summarize",
]


@dataclass(frozen=True)
class Outcome:
    """The result of one finished negotiation (see the module docstring)."""

    game_id: str
    agreed: bool
    points: tuple[float, float]
    """The value each seat got (its points, before the objective dial)."""
    returns: tuple[float, float]
    """The game's returns (the dial applied; a forfeit's returns after a forfeit)."""
    pareto_optimal: bool
    best_joint: float
    """The most joint points any outcome of this scenario gives."""
    forfeit: bool = False

    @property
    def joint(self) -> float:
        """The points of both players together."""
        return self.points[0] + self.points[1]


# ---- Deal or No Deal -----------------------------------------------------------------------------------
@functools.cache
def pareto_frontier(scenario: Scenario) -> tuple[tuple[int, int], ...]:
    """The Pareto-optimal ``(points of player 0, points of player 1)`` of a Deal or No Deal scenario
    (no deal, (0, 0), is never on it: some split always gives someone something)."""
    pairs = {
        (scenario.points(0, take), scenario.points(1, scenario.rest(take))) for take in scenario.allocations()
    }
    return tuple(sorted(p for p in pairs if not any(q[0] >= p[0] and q[1] >= p[1] and q != p for q in pairs)))


def _deal_pareto(scenario: Scenario, got: tuple[float, float]) -> bool:
    return all(
        not (q[0] >= got[0] and q[1] >= got[1] and (q[0] > got[0] or q[1] > got[1]))
        for q in pareto_frontier(scenario)
    )


# ---- resource trading ----------------------------------------------------------------------------------
def _least_cost(values_0: Sequence[int], values_1: Sequence[int], totals: Sequence[int]) -> np.ndarray:
    """``g[u]``: the least value (at player 1's prices) of a holding for player 0 worth exactly ``u`` to
    player 0, over all holdings within ``totals`` (inf where no holding is worth ``u``)."""
    top = int(sum(t * v for t, v in zip(totals, values_0, strict=True)))
    g = np.full(top + 1, np.inf)
    g[0] = 0.0
    for a, b, t in zip(values_0, values_1, totals, strict=True):
        best = g.copy()
        for q in range(1, int(t) + 1):
            shift = q * a
            np.minimum(best[shift:], g[: top + 1 - shift] + q * b, out=best[shift:])
        g = best
    return g


def _trade_pareto(scenario: TradingScenario, holding_0: Sequence[int]) -> bool:
    totals = [a + b for a, b in zip(*scenario.inventories, strict=True)]
    v0, v1 = scenario.values
    g = _least_cost(v0, v1, totals)
    u0 = scenario.worth(0, holding_0)
    w = scenario.worth(1, holding_0)  # what player 0's holding is worth to player 1
    better = g[u0 + 1 :]
    return not (g[u0] < w or bool((better <= w).any()))


def _trade_best_joint(scenario: TradingScenario) -> float:
    v0, v1 = scenario.values
    start = scenario.worth(0, scenario.inventories[0]) + scenario.worth(1, scenario.inventories[1])
    best = sum((a + b) * max(x, y) for a, b, x, y in zip(*scenario.inventories, v0, v1, strict=True))
    return float(best - start)


# ---- price bargaining ----------------------------------------------------------------------------------
def _bargain_pareto(limits: tuple[int, int], got: tuple[float, float], agreed: bool) -> bool:
    s, b = limits
    if agreed:  # another price only moves surplus from one side to the other; no deal dominates iff both lose
        return not (got[0] <= 0 and got[1] <= 0 and (got[0] < 0 or got[1] < 0))
    low, high = max(s, MIN_PRICE), min(b, MAX_PRICE)  # prices neither side loses on
    return not (low <= high and b > s)


# ---- outcomes ------------------------------------------------------------------------------------------
def points(state: State) -> tuple[float, float]:
    """The value each seat got from a finished (or running) negotiation (see the module docstring)."""
    if isinstance(state, DealOrNoDealState):
        return float(state.points[0]), float(state.points[1])
    if isinstance(state, ResourceTradingState):
        return float(state.gain(0)), float(state.gain(1))
    if isinstance(state, PriceBargainingState):
        if state.price is None:
            return 0.0, 0.0
        p = state.price / 100.0
        return p - state.limits[0], state.limits[1] - p
    raise TypeError(f"not a negotiation state: {type(state).__name__}")


def joint_value(state: State) -> float:
    """The points of both players together."""
    a, b = points(state)
    return a + b


def outcome(state: State) -> Outcome:
    """The :class:`Outcome` of a finished negotiation."""
    if not state.is_terminal():
        raise ValueError("the negotiation is not over yet; outcome() reads finished games")
    got = points(state)
    forfeit = bool(getattr(state, "forfeited", False))
    if isinstance(state, DealOrNoDealState):
        agreed = state.deal is not None
        pareto = _deal_pareto(state.scenario, got)
        best = float(max(a + b for a, b in pareto_frontier(state.scenario)))
    elif isinstance(state, ResourceTradingState):
        agreed = bool(state.trades)
        pareto = _trade_pareto(state.scenario, state.inventories[0])
        best = _trade_best_joint(state.scenario)
    elif isinstance(state, PriceBargainingState):
        agreed = state.price is not None
        pareto = _bargain_pareto(state.limits, got, agreed)
        best = float(max(state.limits[1] - state.limits[0], 0))
    else:
        raise TypeError(f"not a negotiation state: {type(state).__name__}")
    ret = state.returns()
    return Outcome(
        game_id=state.game.id,
        agreed=agreed,
        points=got,
        returns=(float(ret[0]), float(ret[1])),
        pareto_optimal=pareto,
        best_joint=best,
        forfeit=forfeit,
    )


def is_pareto_optimal(state: State) -> bool:
    """Whether the finished negotiation's outcome is Pareto-optimal (see the module docstring)."""
    return outcome(state).pareto_optimal


def agreement_rate(outcomes: Sequence[Outcome | State]) -> float:
    """The share of games that ended with a deal."""
    if not outcomes:
        raise ValueError("agreement_rate needs at least one game")
    return float(np.mean([(o if isinstance(o, Outcome) else outcome(o)).agreed for o in outcomes]))


@dataclass
class NegotiationReport:
    """Aggregates of many negotiations. Per-player arrays are by seat (:func:`summarize`) or by agent
    (:func:`evaluate`)."""

    n_games: int
    agreement_rate: float
    pareto_rate: float
    """The share of games whose outcome is Pareto-optimal."""
    pareto_rate_of_deals: float
    """The share of deals that are Pareto-optimal (nan when there is no deal)."""
    mean_joint: float
    """Mean joint points."""
    joint_efficiency: float
    """Mean joint points over the mean of the best joint points the scenarios allow."""
    mean_points: np.ndarray
    mean_returns: np.ndarray
    names: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        who = self.names or [f"player {i}" for i in range(len(self.mean_points))]
        parts = ", ".join(
            f"{n} {p:.2f} pts / {r:+.2f}"
            for n, p, r in zip(who, self.mean_points, self.mean_returns, strict=True)
        )
        return (
            f"{self.n_games} games: deals {self.agreement_rate:.1%}, Pareto-optimal {self.pareto_rate:.1%} "
            f"(of deals {self.pareto_rate_of_deals:.1%}), joint {self.mean_joint:.2f} "
            f"(efficiency {self.joint_efficiency:.1%}); {parts}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_games": self.n_games,
            "agreement_rate": self.agreement_rate,
            "pareto_rate": self.pareto_rate,
            "pareto_rate_of_deals": self.pareto_rate_of_deals,
            "mean_joint": self.mean_joint,
            "joint_efficiency": self.joint_efficiency,
            "mean_points": [float(x) for x in self.mean_points],
            "mean_returns": [float(x) for x in self.mean_returns],
            "names": list(self.names),
        }


def summarize(
    outcomes: Sequence[Outcome | State],
    seatings: np.ndarray | None = None,
    names: Sequence[str] = (),
) -> NegotiationReport:
    """Aggregate outcomes; with ``seatings`` (``seatings[k, s]`` = the agent in seat ``s`` of game
    ``k``, as :attr:`redqueen.match.MatchResult.seatings`) the per-player means are per agent."""
    rows = [o if isinstance(o, Outcome) else outcome(o) for o in outcomes]
    if not rows:
        raise ValueError("summarize needs at least one game")
    pts = np.array([o.points for o in rows], dtype=np.float64)
    rets = np.array([o.returns for o in rows], dtype=np.float64)
    if seatings is not None:
        seatings = np.asarray(seatings)
        if seatings.shape != pts.shape:
            raise ValueError(f"seatings must have shape {pts.shape} (games x seats), got {seatings.shape}")
        by_agent_p, by_agent_r = np.empty_like(pts), np.empty_like(rets)
        for k in range(len(rows)):
            by_agent_p[k, seatings[k]] = pts[k]
            by_agent_r[k, seatings[k]] = rets[k]
        pts, rets = by_agent_p, by_agent_r
    agreed = np.array([o.agreed for o in rows])
    pareto = np.array([o.pareto_optimal for o in rows])
    best = float(np.mean([o.best_joint for o in rows]))
    joint = float(pts.sum(axis=1).mean())
    return NegotiationReport(
        n_games=len(rows),
        agreement_rate=float(agreed.mean()),
        pareto_rate=float(pareto.mean()),
        pareto_rate_of_deals=float(pareto[agreed].mean()) if agreed.any() else float("nan"),
        mean_joint=joint,
        joint_efficiency=joint / best if best > 0 else float("nan"),
        mean_points=pts.mean(axis=0),
        mean_returns=rets.mean(axis=0),
        names=list(names),
        outcomes=rows,
    )


def evaluate(
    game: Any,
    agents: Sequence[Any],
    n_games: int = 100,
    seed: int | None = 0,
    *,
    swap_seats: bool = True,
    **play_kwargs: Any,
) -> NegotiationReport:
    """Play ``n_games`` with :func:`redqueen.play` (same arguments: a game id or Game, one agent or
    short name per seat, game parameters) and summarize them per agent."""
    from redqueen.match import play

    finished: dict[int, Outcome] = {}

    def keep(k: int, state: State, _returns: np.ndarray) -> None:
        finished[k] = outcome(state)

    result = play(game, agents, n_games, seed, swap_seats=swap_seats, on_game_end=keep, **play_kwargs)
    order = result.indices
    report = summarize([finished[k] for k in order], result.seatings, result.agent_names)
    report.mean_returns = result.mean_returns  # penalties of the invalid-answer policy included
    return report


def mean_return(env_id: str, model: Any, n_episodes: int, **env_params: Any) -> float:
    """The mean return of ``model`` (a masked SB3 policy such as sb3-contrib's MaskablePPO, playing
    deterministically; None: uniformly random legal moves) over ``n_episodes`` games of the gym id
    ``env_id`` with the seat alternating; the env is seeded once, so the same scenarios every call."""
    import gymnasium as gym

    env = gym.make(env_id, seat="alternate", **env_params)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=12345)
    total = 0.0
    for _ in range(n_episodes):
        done = False
        while not done:
            mask = env.unwrapped.action_masks()
            if model is None:
                action = int(rng.choice(np.flatnonzero(mask)))
            else:
                action = int(model.predict(obs, action_masks=mask, deterministic=True)[0])
            obs, reward, term, trunc, _ = env.step(action)
            total += reward
            done = term or trunc
        obs, _ = env.reset()
    return total / n_episodes
