"""Matchmaking: who a learner plays next.

* :class:`Payoff`: decayed win/draw/loss counts per ordered pair of players, as in AlphaStar's
  pseudocode: when a pair plays, its counts are multiplied by ``decay`` (0.99) and the new game is
  added; the win rate is ``(wins + draws / 2) / games``, and a pair that never played counts as 0.5.
* :func:`pfsp_weights`: prioritized fictitious self-play. The probability of opponent ``B`` is
  ``f(P[A beats B]) / sum_D f(P[A beats D])`` with ``f_hard(x) = (1 - x)^p`` (``"hard"``; p = 2 is
  AlphaStar's "squared", p = 1 its "linear"), ``f_var(x) = x (1 - x)`` (``"var"``) or AlphaStar's
  ``"linear_capped"`` ``min(0.5, 1 - x)``. When every weight is 0 (every opponent always beaten under
  ``"hard"``, or every rate 0 or 1 under ``"var"``) the choice is uniform, never NaN: the normaliser
  is checked on the *weighted* sum (DI-engine checks the raw win rates and returns NaN there).
* :class:`Matchmaker`: AlphaStar's roles over a league of fixed agents, learners and their frozen
  snapshots:

  - ``main``: 50% PFSP (hard, p = 2) against every frozen player; 15% verification (PFSP against
    main-exploiter snapshots it loses to (rate < 0.3), else against past main-agent snapshots it has
    forgotten how to beat (rate < 0.7)); otherwise self-play against the current main agents
    (their latest snapshots), switching to f_var PFSP over that agent's past snapshots when it
    wins < 30% against it. Verification with no candidate falls back to self-play.
  - ``main_exploiter``: the current main agents; when it wins <= 10% against the chosen one,
    f_var PFSP over that agent's past snapshots instead. Reset to its initial weights after every
    snapshot (the league manager does that; :meth:`Matchmaker.resets_after_snapshot` says so).
  - ``league_exploiter``: PFSP (``linear_capped`` as in the pseudocode; configurable) against every
    frozen player; reset with probability 0.25 after a snapshot.

  Every :meth:`Matchmaker.get_match` returns a :class:`Match` naming the opponent, the branch that
  chose it, and whether the opponent is a *teacher* (a frozen player whose games train only the
  learner). Learners can also use plain ``"uniform"``, ``"pfsp"`` or ``"self_play"`` matchmaking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Weighting = Literal["hard", "squared", "linear", "var", "linear_capped", "uniform"]
WEIGHTINGS: tuple[str, ...] = ("hard", "squared", "linear", "var", "linear_capped", "uniform")
Role = Literal["main", "main_exploiter", "league_exploiter"]
ROLES: tuple[str, ...] = ("main", "main_exploiter", "league_exploiter")
MATCHMAKING: tuple[str, ...] = ("role", "uniform", "pfsp", "pfsp_var", "self_play")


def pfsp_weights(
    win_rates: Sequence[float] | np.ndarray, weighting: Weighting = "hard", p: float = 2.0
) -> np.ndarray:
    """PFSP sampling probabilities for opponents that the learner beats at ``win_rates``.

    ``weighting``: ``"hard"`` ``(1 - x)^p``, ``"squared"`` (hard with p = 2), ``"linear"`` (hard with
    p = 1), ``"var"`` ``x (1 - x)``, ``"linear_capped"`` ``min(0.5, 1 - x)``, or ``"uniform"``. The
    result sums to 1; where all weights are 0 it is uniform.
    """
    x = np.asarray(win_rates, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"win_rates must be a non-empty 1-d sequence, got shape {x.shape}")
    if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x > 1):
        raise ValueError(f"win rates must be numbers in [0, 1], got {x.tolist()}")
    if weighting == "hard":
        if not p > 0:
            raise ValueError(f"PFSP exponent p must be > 0, got {p}")
        f = (1.0 - x) ** p
    elif weighting == "squared":
        f = (1.0 - x) ** 2
    elif weighting == "linear":
        f = 1.0 - x
    elif weighting == "var":
        f = x * (1.0 - x)
    elif weighting == "linear_capped":
        f = np.minimum(0.5, 1.0 - x)
    elif weighting == "uniform":
        f = np.ones_like(x)
    else:
        raise ValueError(f"unknown PFSP weighting {weighting!r}; use one of {', '.join(WEIGHTINGS)}")
    total = f.sum()
    if total < 1e-10:
        return np.full(x.size, 1.0 / x.size)
    return f / total


class Payoff:
    """Decayed results between players (AlphaStar's payoff table); see the module docstring.

    ``draw_score`` is what a draw counts in the win rate: 0.5 (AlphaStar's, the default), or 1.0 to
    rank opponents by how often the learner still *loses* to them. In games where perfect play draws
    (TicTacToe), a draw-heavy opponent such as a perfect player and a learner's own drawish snapshots
    all sit at 0.5 otherwise, and PFSP cannot tell the one it loses to from the ones it never does.
    """

    def __init__(self, decay: float = 0.99, draw_score: float = 0.5):
        if not 0 < decay <= 1:
            raise ValueError(f"decay must be in (0, 1], got {decay}")
        if not 0 <= draw_score <= 1:
            raise ValueError(f"draw_score must be in [0, 1], got {draw_score}")
        self.decay = float(decay)
        self.draw_score = float(draw_score)
        self._counts: dict[tuple[str, str], np.ndarray] = {}  # [wins, draws, losses, games]

    def update(self, home: str, away: str, score: float, weight: float = 1.0) -> None:
        """Add a game of ``home`` against ``away``: ``score`` 1 (home won), 0.5 (draw) or 0 (lost).
        ``weight`` games at once (decay applied once)."""
        if score not in (0, 0.5, 1):
            raise ValueError(f"score must be 1 (win), 0.5 (draw) or 0 (loss), got {score!r}")
        for a, b, s in ((home, away, score), (away, home, 1 - score)):
            counts = self._counts.setdefault((a, b), np.zeros(4))
            counts *= self.decay
            counts[0 if s == 1 else 1 if s == 0.5 else 2] += weight
            counts[3] += weight

    def add_counts(self, home: str, away: str, wins: float, draws: float, losses: float) -> None:
        """Add a block of games (a learner's chunk) with one decay step."""
        games = wins + draws + losses
        if games <= 0:
            return
        for a, b, row in ((home, away, (wins, draws, losses)), (away, home, (losses, draws, wins))):
            counts = self._counts.setdefault((a, b), np.zeros(4))
            counts *= self.decay
            counts += (*row, games)

    def state_dict(self) -> dict[str, list[float]]:
        """The decayed counts, ``"home\x00away" -> [wins, draws, losses, games]`` (for checkpoints)."""
        return {f"{a}\x00{b}": counts.tolist() for (a, b), counts in self._counts.items()}

    def load_state_dict(self, state: dict[str, list[float]]) -> None:
        """Replace the counts with those of :meth:`state_dict`."""
        counts: dict[tuple[str, str], np.ndarray] = {}
        for key, row in state.items():
            home, _, away = key.partition("\x00")
            counts[(home, away)] = np.asarray(row, dtype=np.float64).reshape(4)
        self._counts = counts

    def games(self, home: str, away: str) -> float:
        counts = self._counts.get((home, away))
        return 0.0 if counts is None else float(counts[3])

    def win_rate(self, home: str, away: str) -> float:
        """``(wins + draw_score * draws) / games`` of ``home`` against ``away`` (``draw_score`` 0.5 by
        default); 0.5 when they never played."""
        counts = self._counts.get((home, away))
        if counts is None or counts[3] <= 0:
            return 0.5
        return float((counts[0] + self.draw_score * counts[1]) / counts[3])

    def win_rates(self, home: str, opponents: Iterable[str]) -> np.ndarray:
        return np.array([self.win_rate(home, o) for o in opponents], dtype=np.float64)

    @classmethod
    def from_results(cls, results: Iterable[object], decay: float = 0.99, draw_score: float = 0.5) -> Payoff:
        """A payoff table from two-player records (objects with ``seats`` and ``returns``, such as the
        store's matches), in order; the higher return wins, equal returns draw."""
        payoff = cls(decay, draw_score)
        for record in results:
            seats, returns = record.seats, record.returns  # type: ignore[attr-defined]
            if len(seats) != 2 or seats[0] == seats[1]:
                continue
            a, b = returns
            payoff.update(seats[0], seats[1], 1.0 if a > b else 0.0 if a < b else 0.5)
        return payoff


@dataclass(frozen=True)
class Match:
    """The opponent a learner plays, why it was chosen (``branch``), and whether it is a teacher (a
    frozen player whose games train only the learner)."""

    opponent: str
    branch: str
    teacher: bool = True


@dataclass
class LearnerInfo:
    """A learner as matchmaking sees it: its role and its snapshots, oldest first."""

    name: str
    role: Role = "main"
    snapshots: list[str] = field(default_factory=list)
    pool: tuple[str, ...] = ("all",)
    """Who its PFSP and uniform draws pick from: member names and the groups ``"fixed"`` (agents
    that are not snapshots), ``"snapshots"`` (every learner's) and ``"all"``."""

    @property
    def current(self) -> str | None:
        """Its latest snapshot: the frozen copy of its current weights that others play."""
        return self.snapshots[-1] if self.snapshots else None


class Matchmaker:
    """Picks opponents for learners (see the module docstring).

    Args:
        learners: the learners, with role and snapshots.
        fixed: frozen agents that are not snapshots of a learner (scripted agents, loaded models, LLMs).
        payoff: the results so far. A learner's win rate against an opponent is read under the
            learner's own name (its training games) and, when it has none against that opponent, under
            its latest snapshot's name (league games); else 0.5.
        p: exponent of f_hard for the main agents' PFSP (AlphaStar: 2).
        league_exploiter_weighting: PFSP weighting of league exploiters (AlphaStar: linear_capped).
    """

    def __init__(
        self,
        learners: Sequence[LearnerInfo],
        fixed: Sequence[str],
        payoff: Payoff,
        *,
        p: float = 2.0,
        league_exploiter_weighting: Weighting = "linear_capped",
    ):
        self.learners = {learner.name: learner for learner in learners}
        self.fixed = list(fixed)
        self.payoff = payoff
        self.p = p
        self.league_exploiter_weighting = league_exploiter_weighting
        for learner in learners:
            if learner.role not in ROLES:
                raise ValueError(f"learner {learner.name!r}: unknown role {learner.role!r}; use {ROLES}")

    # ---- helpers ---------------------------------------------------------------------------------
    def learner(self, name: str) -> LearnerInfo:
        try:
            return self.learners[name]
        except KeyError:
            raise ValueError(
                f"unknown learner {name!r}; learners: {', '.join(self.learners) or 'none'}"
            ) from None

    def rate(self, learner: str, opponent: str) -> float:
        if self.payoff.games(learner, opponent) > 0:
            return self.payoff.win_rate(learner, opponent)
        current = self.learner(learner).current
        if current is not None and current != opponent:
            return self.payoff.win_rate(current, opponent)
        return 0.5

    def historical(self, learner: str) -> list[str]:
        """Every frozen player a learner may meet: fixed agents and all snapshots (its own included),
        within its ``pool``."""
        pool = set(self.learner(learner).pool)
        snapshots = [s for info in self.learners.values() for s in info.snapshots]
        if "all" in pool:
            return [*self.fixed, *snapshots]
        fixed = [f for f in self.fixed if "fixed" in pool or f in pool]
        return fixed + [s for s in snapshots if "snapshots" in pool or s in pool]

    def mains(self) -> list[LearnerInfo]:
        return [info for info in self.learners.values() if info.role == "main" and info.current is not None]

    def _pfsp(
        self,
        learner: str,
        candidates: Sequence[str],
        rng: np.random.Generator,
        weighting: Weighting,
        p: float,
    ) -> str:
        weights = pfsp_weights(self.rate_all(learner, candidates), weighting, p)
        return candidates[int(rng.choice(len(candidates), p=weights))]

    def rate_all(self, learner: str, candidates: Sequence[str]) -> np.ndarray:
        return np.array([self.rate(learner, c) for c in candidates], dtype=np.float64)

    def resets_after_snapshot(self, learner: str, rng: np.random.Generator) -> bool:
        """Whether the learner goes back to its initial weights after a snapshot: always for main
        exploiters, with probability 0.25 for league exploiters, never for main agents."""
        role = self.learner(learner).role
        if role == "main_exploiter":
            return True
        if role == "league_exploiter":
            return bool(rng.random() < 0.25)
        return False

    # ---- matchmaking -----------------------------------------------------------------------------
    def get_match(self, learner: str, rng: np.random.Generator, method: str = "role") -> Match:
        """The next opponent of ``learner``. ``method``: ``"role"`` (AlphaStar's rules for its role),
        ``"uniform"``, ``"pfsp"`` (hard), ``"pfsp_var"`` over every frozen player, or
        ``"self_play"`` (its own latest snapshot)."""
        self.learner(learner)  # a clear error for an unknown name
        everyone = self.historical(learner)
        if not everyone:
            raise ValueError(f"learner {learner!r} has nobody to play: the league has no frozen player yet")
        if method == "uniform":
            return Match(everyone[int(rng.integers(len(everyone)))], "uniform")
        if method == "pfsp":
            return Match(self._pfsp(learner, everyone, rng, "hard", self.p), "pfsp")
        if method == "pfsp_var":
            return Match(self._pfsp(learner, everyone, rng, "var", self.p), "pfsp_var")
        if method == "self_play":
            current = self.learner(learner).current
            if current is None:
                raise ValueError(f"learner {learner!r} has no snapshot to play itself with")
            return Match(current, "self_play")
        if method != "role":
            raise ValueError(f"unknown matchmaking {method!r}; use one of {', '.join(MATCHMAKING)}")
        role = self.learner(learner).role
        if role == "main":
            return self._main(learner, everyone, rng)
        if role == "main_exploiter":
            return self._main_exploiter(learner, everyone, rng)
        return Match(self._pfsp(learner, everyone, rng, self.league_exploiter_weighting, self.p), "pfsp")

    def _main(self, learner: str, everyone: list[str], rng: np.random.Generator) -> Match:
        coin = rng.random()
        if coin < 0.5:
            return Match(self._pfsp(learner, everyone, rng, "hard", self.p), "pfsp")
        if coin < 0.65:
            verification = self._verification(learner, rng)
            if verification is not None:
                return verification
        return self._self_play(learner, everyone, rng)

    def _verification(self, learner: str, rng: np.random.Generator) -> Match | None:
        exploiters = [
            s for info in self.learners.values() if info.role == "main_exploiter" for s in info.snapshots
        ]
        losing = [s for s in exploiters if self.rate(learner, s) < 0.3]
        if losing:
            return Match(self._pfsp(learner, losing, rng, "hard", self.p), "verification")
        past_mains = [s for info in self.mains() for s in info.snapshots[:-1]]
        forgotten = [s for s in past_mains if self.rate(learner, s) < 0.7]
        if forgotten:
            return Match(self._pfsp(learner, forgotten, rng, "hard", self.p), "verification")
        return None

    def _self_play(self, learner: str, everyone: list[str], rng: np.random.Generator) -> Match:
        mains = self.mains()
        if not mains:
            return Match(self._pfsp(learner, everyone, rng, "hard", self.p), "pfsp")
        main = mains[int(rng.integers(len(mains)))]
        current = main.current
        assert current is not None
        past = main.snapshots[:-1]
        if self.rate(learner, current) < 0.3 and past:
            return Match(self._pfsp(learner, past, rng, "var", self.p), "curriculum")
        return Match(current, "self_play")

    def _main_exploiter(self, learner: str, everyone: list[str], rng: np.random.Generator) -> Match:
        mains = self.mains()
        if not mains:  # no main agent yet: behave like a league exploiter
            return Match(self._pfsp(learner, everyone, rng, self.league_exploiter_weighting, self.p), "pfsp")
        main = mains[int(rng.integers(len(mains)))]
        current = main.current
        assert current is not None
        if self.rate(learner, current) > 0.1 or len(main.snapshots) < 2:
            return Match(current, "exploit")
        return Match(self._pfsp(learner, main.snapshots[:-1], rng, "var", self.p), "curriculum")


def sample_counts(
    matchmaker: Matchmaker, learner: str, rng: np.random.Generator, n: int, method: str = "role"
) -> Mapping[str, int]:
    """How often each opponent is drawn in ``n`` calls of :meth:`Matchmaker.get_match` (for tests
    and for showing a learner's schedule)."""
    counts: dict[str, int] = {}
    for _ in range(n):
        opponent = matchmaker.get_match(learner, rng, method).opponent
        counts[opponent] = counts.get(opponent, 0) + 1
    return counts
