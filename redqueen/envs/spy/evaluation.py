"""Evaluating Who-Is-the-Spy players: spy-caught rate, per-role win rates, n/a rate, per-role ratings.

:func:`evaluate` plays a match with :func:`redqueen.play` (seats rotated by default, so every agent
is dealt both roles) and summarises the final states with :func:`summarize`:

* ``caught``: how often the civilians won (the spy was caught, or voted out in the elimination
  variant), with a Wilson interval, next to :func:`chance_catch_rate` (the same with uniformly random
  votes);
* per agent and role (spy / civilian): games and wins;
* ``na_rate`` and ``vote_accuracy``: the share of civilian votes that were "n/a" and that named the spy;
* ``ratings``: OpenSkill (Plackett-Luce) ratings per (agent, role) from
  :func:`redqueen.league.ratings.openskill_ratings` with ``mode="per_role"``: every seat is rated on
  its own, ranked by the game's outcome, never as a team sum (which would put a lone spy against the
  sum of three civilians' ratings and predict that it never wins);
* the mean clue-stage and decision-stage returns by role.

A game ended by a forfeit (an invalid answer under ``invalid="forfeit"``) has no winner; it is
counted in ``forfeits`` and left out of the rates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from redqueen.envs.spy.game import SpyState, WhoIsTheSpy
from redqueen.league.ratings import Result, SkillRating, openskill_ratings

__all__ = ["SpyEvaluation", "chance_catch_rate", "evaluate", "role_records", "summarize", "wilson"]

ROLES = ("civilian", "spy")
_EXACT_LIMIT = 2_000_000


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a rate (``(nan, nan)`` when ``n == 0``)."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def chance_catch_rate(game: WhoIsTheSpy, samples: int = 200_000, seed: int = 0) -> float:
    """How often the spy of ``game``'s first vote is caught when every voter votes uniformly at random
    for another player (never "n/a"): exact enumeration, or ``samples`` random draws when there are
    more than two million vote combinations."""
    n = game.num_players
    spy = 0  # every seat is alike
    voters = [p for p in range(n) if p != spy or not game.spy_knows_role]
    choices = [[t for t in range(n) if t != p] for p in voters]
    total = math.prod(len(c) for c in choices)

    def caught(votes: Sequence[int]) -> bool:
        counts = np.bincount(np.asarray(votes, dtype=np.int64), minlength=n)
        return bool(counts[spy] == counts.max() and (counts == counts.max()).sum() == 1)

    if total <= _EXACT_LIMIT:
        return sum(caught(v) for v in itertools.product(*choices)) / total
    rng = np.random.default_rng(seed)
    draws = np.stack([np.asarray(c)[rng.integers(len(c), size=samples)] for c in choices], axis=1)
    return float(np.mean([caught(row) for row in draws]))


@dataclass
class SpyEvaluation:
    """The summary of a set of games (see the module docstring)."""

    agent_names: list[str]
    games: int
    forfeits: int
    caught: int
    chance: float
    civilian_votes: int
    na_votes: int
    correct_votes: int
    role_games: dict[str, dict[str, int]]
    role_wins: dict[str, dict[str, int]]
    ratings: dict[tuple[str, str], SkillRating]
    mean_clue_returns: dict[str, float]
    mean_decision_returns: dict[str, float]
    invalid_answers: list[int] = field(default_factory=list)
    records: list[Result] = field(default_factory=list, repr=False)
    """The rating records (:func:`role_records`): seats, 1/0 outcome per seat, roles."""

    @property
    def decided(self) -> int:
        """Games with a winner (not ended by a forfeit)."""
        return self.games - self.forfeits

    @property
    def caught_rate(self) -> float:
        return self.caught / self.decided if self.decided else math.nan

    @property
    def caught_interval(self) -> tuple[float, float]:
        return wilson(self.caught, self.decided)

    @property
    def na_rate(self) -> float:
        return self.na_votes / self.civilian_votes if self.civilian_votes else math.nan

    @property
    def vote_accuracy(self) -> float:
        return self.correct_votes / self.civilian_votes if self.civilian_votes else math.nan

    def win_rate(self, agent: str, role: str) -> float:
        """``agent``'s win rate in ``role`` ("spy" or "civilian"); nan if it never had that role."""
        games = self.role_games[agent][role]
        return self.role_wins[agent][role] / games if games else math.nan

    def role_win_rate(self, role: str) -> float:
        """The win rate of a role over every agent."""
        games = sum(g[role] for g in self.role_games.values())
        return sum(w[role] for w in self.role_wins.values()) / games if games else math.nan

    def summary(self) -> str:
        low, high = self.caught_interval
        lines = [
            f"Who Is the Spy: {self.games} games ({self.forfeits} forfeits); spy caught "
            f"{self.caught_rate:.3f} [{low:.3f}, {high:.3f}] (chance {self.chance:.3f}); civilian votes: "
            f"n/a {self.na_rate:.3f}, right {self.vote_accuracy:.3f}",
        ]
        width = max(len(a) for a in self.agent_names)
        for agent in self.agent_names:
            parts = []
            for role in ROLES:
                g = self.role_games[agent][role]
                rating = self.ratings.get((agent, role))
                mu = f", mu {rating.mu:.1f}" if rating is not None else ""
                parts.append(f"{role} {self.role_wins[agent][role]}/{g}{mu}")
            lines.append(f"  {agent:<{width}}  " + "; ".join(parts))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        low, high = self.caught_interval
        return {
            "agent_names": list(self.agent_names),
            "games": self.games,
            "forfeits": self.forfeits,
            "caught": self.caught,
            "caught_rate": self.caught_rate,
            "caught_interval": [low, high],
            "chance": self.chance,
            "na_rate": self.na_rate,
            "vote_accuracy": self.vote_accuracy,
            "role_games": self.role_games,
            "role_wins": self.role_wins,
            "role_win_rates": {role: self.role_win_rate(role) for role in ROLES},
            "ratings": {
                f"{agent}/{role}": {"mu": r.mu, "sigma": r.sigma, "ordinal": r.ordinal}
                for (agent, role), r in self.ratings.items()
            },
            "mean_clue_returns": self.mean_clue_returns,
            "mean_decision_returns": self.mean_decision_returns,
            "invalid_answers": list(self.invalid_answers),
        }


def role_records(
    states: Sequence[SpyState], seatings: np.ndarray, agent_names: Sequence[str]
) -> list[Result]:
    """One rating record per decided game: the agent in each seat, its role, and 1 for the winning
    side, 0 for the losing side (what :func:`openskill_ratings` ranks by)."""
    records = []
    for state, seating in zip(states, seatings, strict=True):
        if state.winner is None:
            continue
        seats = [agent_names[int(a)] for a in seating]
        won = [
            float(state.caught) if role == "civilian" else float(not state.caught) for role in state.roles()
        ]
        records.append(Result(seats, won, state.roles()))
    return records


def summarize(
    states: Sequence[SpyState],
    seatings: np.ndarray,
    agent_names: Sequence[str],
    invalid_answers: Sequence[int] = (),
) -> SpyEvaluation:
    """A :class:`SpyEvaluation` of finished games; ``seatings[k, s]`` is the index in
    ``agent_names`` of the agent in seat ``s`` of game ``k`` (as :class:`~redqueen.match.MatchResult`
    has it)."""
    if not states:
        raise ValueError("summarize needs at least one finished game")
    game = states[0].game
    names = list(agent_names)
    role_games = {a: dict.fromkeys(ROLES, 0) for a in names}
    role_wins = {a: dict.fromkeys(ROLES, 0) for a in names}
    clue: dict[str, list[float]] = {r: [] for r in ROLES}
    decision: dict[str, list[float]] = {r: [] for r in ROLES}
    forfeits = caught = votes = na = right = 0
    for state, seating in zip(states, seatings, strict=True):
        if not state.is_terminal():
            raise ValueError("summarize needs finished games")
        if state.winner is None:
            forfeits += 1
            continue
        caught += bool(state.caught)
        clue_r, decision_r = state.clue_returns(), state.decision_returns()
        for seat, role in enumerate(state.roles()):
            agent = names[int(seating[seat])]
            role_games[agent][role] += 1
            role_wins[agent][role] += int(state.caught == (role == "civilian"))
            clue[role].append(float(clue_r[seat]))
            decision[role].append(float(decision_r[seat]))
        for stage in state.votes:
            for voter, target in stage.items():
                if voter == state.spy:
                    continue
                votes += 1
                na += target is None
                right += target == state.spy
    records = role_records(states, seatings, names)
    ratings = openskill_ratings(records, mode="per_role") if records else {}
    return SpyEvaluation(
        agent_names=names,
        games=len(states),
        forfeits=forfeits,
        caught=caught,
        chance=chance_catch_rate(game) if game.variant == "vision_zero" else math.nan,
        civilian_votes=votes,
        na_votes=na,
        correct_votes=right,
        role_games=role_games,
        role_wins=role_wins,
        ratings=ratings,
        mean_clue_returns={r: float(np.mean(v)) if v else math.nan for r, v in clue.items()},
        mean_decision_returns={r: float(np.mean(v)) if v else math.nan for r, v in decision.items()},
        invalid_answers=[int(c) for c in invalid_answers],
        records=records,
    )


def evaluate(
    agents: Sequence[Any],
    n_games: int = 200,
    seed: int = 0,
    *,
    game: WhoIsTheSpy | None = None,
    swap_seats: bool = True,
    invalid: str = "forfeit",
    progress: bool = False,
    concurrency: int = 1,
    **game_params: Any,
) -> SpyEvaluation:
    """Play ``n_games`` games between ``agents`` (one per seat; see :func:`redqueen.play`) and
    summarise them. ``game`` (or ``game_params`` for a new :class:`WhoIsTheSpy`) is the game.

    ``swap_seats=True`` (default) plays every deal once per seating, so each agent meets every role
    on the same deals (fair comparisons); those games come in correlated blocks, so the Wilson
    interval of ``caught`` is then too narrow. For a table of one agent use ``swap_seats=False``:
    the spy's seat is drawn by each game's seed anyway, and the games are independent."""
    from redqueen.match import play

    if game is None:
        game = WhoIsTheSpy(**game_params)
    elif game_params:
        raise TypeError("give either game= or game parameters, not both")
    finals: dict[int, SpyState] = {}

    def keep(k: int, state: Any, returns: np.ndarray) -> None:
        finals[k] = state

    result = play(
        game,
        list(agents),
        n_games=n_games,
        seed=seed,
        swap_seats=swap_seats,
        invalid=invalid,  # type: ignore[arg-type]
        progress=progress,
        on_game_end=keep,
        concurrency=concurrency,
    )
    states = [finals[k] for k in result.indices]
    return summarize(states, result.seatings, result.agent_names, result.invalid_answers.tolist())
