"""Ratings for league results: batch and online Elo, OpenSkill, payoff matrices, Nash averaging, α-Rank.

Every function takes a sequence of *records*: any objects with the attributes

* ``seats``: agent names, one per seat, in seat order;
* ``returns``: one float per seat;
* ``roles`` (optional): one role name per seat, or ``None``.

:class:`Result` is a small record type for callers and tests; the league store's match rows work as they
are. The outcome of a game between two seats is decided by their returns: the higher return wins, equal
returns are a draw. Records are validated by the functions (not by :class:`Result`): an empty sequence, a
record whose ``seats`` and ``returns`` (or ``roles``) differ in length, a record with fewer than two seats
and a NaN or infinite return all raise :class:`ValueError` naming the record.

* :func:`elo_fit` -- maximum-likelihood Elo (Bradley–Terry) on the whole history; :func:`elo_online` --
  the classic sequential Elo update; :func:`expected_score`.
* :func:`openskill_ratings` -- Weng–Lin (OpenSkill) ratings for free-for-all games of any size, per agent
  or per (agent, role).
* :func:`payoff_matrix` -- head-to-head counts, scores with Wilson intervals and mean returns.
* :func:`nash_average` -- Balduzzi et al. (2018) Nash averaging of the score matrix.
* :func:`alpha_rank` -- OpenSpiel's α-Rank on the score matrix.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "NashAverage",
    "PayoffMatrix",
    "Record",
    "Result",
    "SkillRating",
    "alpha_rank",
    "elo_fit",
    "elo_online",
    "expected_score",
    "nash_average",
    "openskill_ratings",
    "payoff_matrix",
]

_LN10 = math.log(10.0)


class Record(Protocol):
    """What the rating functions read from a record (``roles`` is optional and read with ``getattr``)."""

    @property
    def seats(self) -> Sequence[str]: ...

    @property
    def returns(self) -> Sequence[float]: ...


@dataclass(frozen=True)
class Result:
    """One finished game: agent names and returns per seat (in seat order), and optionally roles per seat.

    The sequences are stored as tuples. No validation happens here; the rating functions check records.
    """

    seats: Sequence[str]
    returns: Sequence[float]
    roles: Sequence[str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "seats", tuple(self.seats))
        object.__setattr__(self, "returns", tuple(float(r) for r in self.returns))
        if self.roles is not None:
            object.__setattr__(self, "roles", tuple(self.roles))


@dataclass(frozen=True)
class _Game:
    seats: tuple[str, ...]
    returns: tuple[float, ...]
    roles: tuple[str, ...] | None
    where: str  # "record 3 ('key') with seats [...]", for error messages


def _describe(index: int, record: Any) -> str:
    key = getattr(record, "key", None)
    name = f"record {index}" + (f" ({key!r})" if key is not None else "")
    return f"{name} with seats {list(getattr(record, 'seats', []))}"


def _games(records: Iterable[Record], *, two_player: bool = False, what: str = "") -> list[_Game]:
    """Validate ``records`` and copy them into plain tuples (see the module docstring for the rules)."""
    games: list[_Game] = []
    for index, record in enumerate(records):
        seats = tuple(str(s) for s in record.seats)
        returns = tuple(float(r) for r in record.returns)
        raw_roles = getattr(record, "roles", None)
        roles = None if raw_roles is None else tuple(str(r) for r in raw_roles)
        where = _describe(index, record)
        if len(seats) != len(returns):
            raise ValueError(
                f"{where}: seats and returns differ in length ({len(seats)} seats, {len(returns)} returns)"
            )
        if roles is not None and len(roles) != len(seats):
            raise ValueError(
                f"{where}: seats and roles differ in length ({len(seats)} seats, {len(roles)} roles)"
            )
        if len(seats) < 2:
            raise ValueError(f"{where}: a game needs at least two seats to be rated, got {len(seats)}")
        if two_player and len(seats) != 2:
            raise ValueError(f"{where}: {what} needs two-player records, this one has {len(seats)} seats")
        if not all(math.isfinite(r) for r in returns):
            raise ValueError(f"{where}: returns must be finite numbers (no NaN or inf), got {list(returns)}")
        games.append(_Game(seats, returns, roles, where))
    if not games:
        raise ValueError(f"{what or 'rating'}: records is empty, need at least one game")
    return games


def _first_appearance(games: Sequence[_Game]) -> list[str]:
    return list(dict.fromkeys(name for g in games for name in g.seats))


def _score(ret_a: float, ret_b: float) -> float:
    """Score of seat a against seat b: 1 for a higher return, 0.5 for equal returns, 0 for a lower one."""
    return 1.0 if ret_a > ret_b else 0.5 if ret_a == ret_b else 0.0


# --------------------------------------------------------------------------------------------- Elo


def expected_score(ra: float, rb: float, scale: float = 400.0) -> float:
    """Elo expected score of a player rated ``ra`` against one rated ``rb``:
    ``1 / (1 + 10**((rb - ra) / scale))``."""
    return float(special.expit(_LN10 * (ra - rb) / scale))


def elo_fit(
    records: Iterable[Record],
    *,
    scale: float = 400.0,
    base: float = 1000.0,
    anchor: str | None = None,
    prior_games: float = 1.0,
) -> dict[str, float]:
    """Batch maximum-likelihood Elo ratings (a Bradley–Terry fit on the full history, not online).

    Model: agent ``i`` beats ``j`` with probability ``1 / (1 + 10**((r_j - r_i) / scale))``. Each two-player
    game adds ``s*log P(i beats j) + (1-s)*log P(j beats i)`` to the log-likelihood with ``s`` = 1, 0.5 or 0
    (a draw counts as half a win each way). Self-play games (one name in both seats) carry no information
    and are ignored. The regulariser adds, for every agent, ``prior_games`` virtual *draws* against an
    opponent rated at the mean of all ratings, i.e. the penalty
    ``-prior_games * sum_i [log σ(x_i - x̄) + log σ(x̄ - x_i)] / 2`` with ``x = r * ln(10) / scale``; it
    keeps an agent that won (or lost) every game finite and pulls agents with few games toward the mean.
    ``prior_games=0`` is the plain maximum-likelihood fit, which diverges (the optimiser stops at large
    finite numbers) unless every agent has both won and lost against the others.

    The objective is convex and is minimised with L-BFGS (scipy.optimize). Ratings are then shifted so that
    their mean is ``base``, or, with ``anchor``, so that ``anchor``'s rating is ``base``. The result does
    not depend on the order of the records. Returns ``{agent: rating}`` in order of first appearance.

    Raises ValueError for empty records, records that are not two-player, bad returns, an unknown
    ``anchor``, or a non-positive ``scale`` / negative ``prior_games``.
    """
    if not scale > 0:
        raise ValueError(f"elo_fit: scale must be positive, got {scale}")
    if not prior_games >= 0:
        raise ValueError(f"elo_fit: prior_games must be >= 0, got {prior_games}")
    games = _games(records, two_player=True, what="elo_fit")
    agents = _first_appearance(games)
    if anchor is not None and anchor not in agents:
        raise ValueError(f"elo_fit: anchor {anchor!r} is not an agent in the records (agents: {agents})")
    index = {name: i for i, name in enumerate(agents)}
    n = len(agents)
    wins = np.zeros((n, n))  # wins[i, j] = wins of i over j, plus half the draws
    for g in games:
        i, j = index[g.seats[0]], index[g.seats[1]]
        if i != j:
            s = _score(g.returns[0], g.returns[1])
            wins[i, j] += s
            wins[j, i] += 1.0 - s
    played = wins + wins.T
    won = wins.sum(axis=1)
    norm = max(1.0, float(played.sum()) / 2.0 + n * prior_games)

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        diff = x[:, None] - x[None, :]
        nll = -float((wins * special.log_expit(diff)).sum())
        grad = (played * special.expit(diff)).sum(axis=1) - won
        if prior_games > 0:
            e = x - x.mean()
            nll -= 0.5 * prior_games * float((special.log_expit(e) + special.log_expit(-e)).sum())
            g_e = prior_games * (special.expit(e) - 0.5)
            grad = grad + g_e - g_e.mean()
        return nll / norm, grad / norm

    res = optimize.minimize(
        objective,
        np.zeros(n),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000},
    )
    ratings = np.asarray(res.x) * scale / _LN10
    shift = base - (ratings[index[anchor]] if anchor is not None else ratings.mean())
    return {name: float(r + shift) for name, r in zip(agents, ratings, strict=True)}


def elo_online(
    records: Iterable[Record], *, k: float = 16.0, base: float = 1000.0, scale: float = 400.0
) -> dict[str, float]:
    """Classic sequential Elo: every agent starts at ``base``; for each two-player record in order, each
    seat's rating moves by ``k * (score - expected_score(own, other, scale))`` (score 1, 0.5 or 0), both
    computed from the ratings before the game. Self-play games are skipped. Depends on record order.
    Returns ``{agent: rating}`` in order of first appearance. Raises ValueError as :func:`elo_fit`."""
    games = _games(records, two_player=True, what="elo_online")
    ratings = dict.fromkeys(_first_appearance(games), float(base))
    for g in games:
        a, b = g.seats
        if a == b:
            continue
        delta = k * (_score(g.returns[0], g.returns[1]) - expected_score(ratings[a], ratings[b], scale))
        ratings[a] += delta
        ratings[b] -= delta
    return ratings


# ---------------------------------------------------------------------------------------- OpenSkill


@dataclass(frozen=True)
class SkillRating:
    """An OpenSkill rating: mean ``mu``, standard deviation ``sigma`` and openskill's
    ``ordinal = mu - 3 * sigma``."""

    mu: float
    sigma: float
    ordinal: float


def openskill_ratings(
    records: Iterable[Record],
    *,
    mode: Literal["ffa", "per_role"] = "ffa",
    model: str | Any = "PlackettLuce",
) -> dict[Any, SkillRating]:
    """OpenSkill (Weng–Lin) ratings, updated sequentially over the records in order.

    Each record is one free-for-all match: every seat is its own one-member team (never team sums), ranked
    by return (higher is better; tied returns share a rank), and rated with one call of openskill's
    ``model.rate(teams, ranks=...)``. ``model`` is the name of a class in :mod:`openskill.models`
    (``"PlackettLuce"``, ``"BradleyTerryFull"``, ``"ThurstoneMostellerPart"``, ...) built with its
    defaults, or a model instance. Everyone starts at ``model.rating()``.

    ``mode="ffa"`` keys ratings by agent name; ``mode="per_role"`` keys them by ``(agent, role)`` from
    ``record.roles`` (e.g. a spy and a civilian rating per agent in social-deduction games), and raises
    ValueError if a record has no roles.

    A key in several seats of one match (self-play) is rated from its pre-match rating in each seat and
    then gets the mean of its seats' new ``mu`` and ``sigma``; a match where every seat has the same key
    carries no information and is skipped. Returns ``{key: SkillRating}`` in order of first appearance.
    """
    from openskill import models as os_models

    if mode not in ("ffa", "per_role"):
        raise ValueError(f"openskill_ratings: mode must be 'ffa' or 'per_role', got {mode!r}")
    if isinstance(model, str):
        names = [cls.__name__ for cls in os_models.MODELS]
        if model not in names:
            raise ValueError(f"openskill_ratings: unknown openskill model {model!r}; choose one of {names}")
        model = getattr(os_models, model)()
    games = _games(records, what="openskill_ratings")
    ratings: dict[Any, Any] = {}
    for g in games:
        if mode == "per_role":
            if g.roles is None:
                raise ValueError(f"openskill_ratings: mode='per_role' needs roles, {g.where} has none")
            keys: list[Any] = list(zip(g.seats, g.roles, strict=True))
        else:
            keys = list(g.seats)
        for key in keys:
            if key not in ratings:
                ratings[key] = model.rating()
        if len(set(keys)) == 1:
            continue
        ranks = [sum(other > r for other in g.returns) for r in g.returns]
        new = model.rate([[ratings[key]] for key in keys], ranks=ranks)
        seats_of: dict[Any, list[Any]] = {}
        for key, team in zip(keys, new, strict=True):
            seats_of.setdefault(key, []).append(team[0])
        for key, updated in seats_of.items():
            rating = updated[0]
            if len(updated) > 1:
                rating.mu = float(np.mean([u.mu for u in updated]))
                rating.sigma = float(np.mean([u.sigma for u in updated]))
            ratings[key] = rating
    return {
        key: SkillRating(mu=float(r.mu), sigma=float(r.sigma), ordinal=float(r.ordinal()))
        for key, r in ratings.items()
    }


# ------------------------------------------------------------------------------------ payoff matrix


def _nan_to_none(a: np.ndarray) -> list[Any]:
    return [[None if math.isnan(v) else float(v) for v in row] for row in a.tolist()]


@dataclass(frozen=True)
class PayoffMatrix:
    """Head-to-head statistics of row agent ``agents[i]`` against column agent ``agents[j]``.

    ``games``, ``wins``, ``draws``, ``losses`` are int arrays (``games = wins + draws + losses``);
    ``score = (wins + 0.5 * draws) / games``; ``score_low``/``score_high`` its Wilson interval at
    ``confidence``; ``mean_return`` the row agent's mean return in those games and ``mean_return_ci`` the
    normal-approximation half-width ``z * std(ddof=1) / sqrt(games)``. Float entries are NaN where no game
    was played (and ``mean_return_ci`` also where only one was).
    """

    agents: list[str]
    games: np.ndarray
    wins: np.ndarray
    draws: np.ndarray
    losses: np.ndarray
    score: np.ndarray
    score_low: np.ndarray
    score_high: np.ndarray
    mean_return: np.ndarray
    mean_return_ci: np.ndarray
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able copy: nested lists, NaN as ``None``."""
        out: dict[str, Any] = {"agents": list(self.agents), "confidence": self.confidence}
        for name in ("games", "wins", "draws", "losses"):
            out[name] = getattr(self, name).tolist()
        for name in ("score", "score_low", "score_high", "mean_return", "mean_return_ci"):
            out[name] = _nan_to_none(getattr(self, name))
        return out


def _wilson(successes: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``successes / n``; NaN where ``n == 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = successes / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def payoff_matrix(
    records: Iterable[Record], agents: Sequence[str] | None = None, *, confidence: float = 0.95
) -> PayoffMatrix:
    """Head-to-head payoff matrix of two-player records.

    Rows/columns are ``agents`` if given (a record with an agent not in it raises ValueError; listed agents
    without games get NaN rows), else all agents in order of first appearance. Each game counts once from
    each side. Self-play games (the same name in both seats) are skipped. The Wilson interval treats
    ``score * games`` as the number of successes in ``games`` Bernoulli trials; with draws the outcomes
    are not Bernoulli, so the interval is an approximation (a draw counts as half a success). ``score`` is
    antisymmetric where played: ``score[i, j] + score[j, i] = 1``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"payoff_matrix: confidence must be in (0, 1), got {confidence}")
    games = _games(records, two_player=True, what="payoff_matrix")
    if agents is None:
        names = _first_appearance(games)
    else:
        names = [str(a) for a in agents]
        if len(set(names)) != len(names):
            raise ValueError(f"payoff_matrix: agents has duplicates: {names}")
    index = {name: i for i, name in enumerate(names)}
    n = len(names)
    wins, draws, losses = (np.zeros((n, n), dtype=np.int64) for _ in range(3))
    ret_sum, ret_sq = np.zeros((n, n)), np.zeros((n, n))
    for g in games:
        for name in g.seats:
            if name not in index:
                raise ValueError(f"payoff_matrix: {g.where} has agent {name!r}, not in agents {names}")
        i, j = index[g.seats[0]], index[g.seats[1]]
        if i == j:
            continue
        for a, b, ra, rb in ((i, j, g.returns[0], g.returns[1]), (j, i, g.returns[1], g.returns[0])):
            counts = wins if ra > rb else draws if ra == rb else losses
            counts[a, b] += 1
            ret_sum[a, b] += ra
            ret_sq[a, b] += ra * ra
    played = wins + draws + losses
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (wins + 0.5 * draws) / played
        mean = ret_sum / played
        var = np.maximum(ret_sq - played * mean * mean, 0.0) / (played - 1)
        ci = np.where(played > 1, z * np.sqrt(var / played), np.nan)
    low, high = _wilson(score * played, played.astype(float), z)
    return PayoffMatrix(
        agents=names,
        games=played,
        wins=wins,
        draws=draws,
        losses=losses,
        score=score,
        score_low=low,
        score_high=high,
        mean_return=mean,
        mean_return_ci=ci,
        confidence=confidence,
    )


def _score_matrix(
    matrix_or_payoff: PayoffMatrix | Any, agents: Sequence[str] | None
) -> tuple[list[str], np.ndarray]:
    """(agent names, square score matrix with NaN for unplayed pairs) from a PayoffMatrix or an array."""
    if isinstance(matrix_or_payoff, PayoffMatrix):
        names, score = list(matrix_or_payoff.agents), np.array(matrix_or_payoff.score, dtype=float)
    else:
        score = np.array(matrix_or_payoff, dtype=float)
        names = [str(i) for i in range(len(score))] if agents is None else [str(a) for a in agents]
    if score.ndim != 2 or score.shape[0] != score.shape[1] or score.shape[0] == 0:
        raise ValueError(f"score matrix must be square and non-empty, got shape {score.shape}")
    if len(names) != score.shape[0]:
        raise ValueError(f"{len(names)} agent names for a {score.shape[0]}x{score.shape[0]} score matrix")
    if np.any((score < 0) | (score > 1)):
        raise ValueError("score matrix entries must be in [0, 1] (or NaN for unplayed pairs)")
    return names, score


# ----------------------------------------------------------------------------------- Nash averaging


@dataclass(frozen=True)
class NashAverage:
    """Nash averaging result: the Nash mixture ``weights`` over agents, the Nash-averaged ``skill``
    ``(A @ p)[i]`` of each agent against that mixture (<= 0, 0 in the support), and whether ``weights`` is
    the maximum-entropy Nash (``max_entropy``; False when it fell back to the LP's solution)."""

    weights: dict[str, float]
    skill: dict[str, float]
    max_entropy: bool


def nash_average(matrix_or_payoff: PayoffMatrix | Any, *, agents: Sequence[str] | None = None) -> NashAverage:
    """Nash averaging (Balduzzi et al. 2018, "Re-evaluating evaluation") of a score matrix.

    ``matrix_or_payoff`` is a :class:`PayoffMatrix` or a square array of scores in [0, 1] (row against
    column, NaN = unplayed; names from ``agents`` or ``"0"``, ``"1"``, ...). Unplayed pairs and the diagonal
    count as 0.5, and the antisymmetric payoff is ``A = (S - S.T) / 2`` (equal to ``S - 0.5`` when
    ``S[i, j] + S[j, i] = 1``, as in a payoff matrix). The symmetric zero-sum game ``A`` has value 0 and
    its Nash mixtures are the ``p`` on the simplex with ``A @ p <= 0``. An LP (scipy ``linprog``)
    maximising the row player's guaranteed payoff finds one; then ``scipy.optimize.minimize`` (SLSQP)
    maximises entropy over ``{p : A @ p <= 1e-10}`` starting from it, and its answer is kept if feasible
    (to 1e-6) and at least as entropic (else the LP's). By complementary slackness an agent in the support
    has ``(A @ p)[i] = 0``, so agents with ``(A @ p)[i] < -1e-6`` get weight 0 (removing the optimiser's
    round-off mass) and the weights are renormalised. ``skill = A @ p``, set to exactly 0 in the support
    and clipped to <= 0 elsewhere.
    """
    names, score = _score_matrix(matrix_or_payoff, agents)
    s = np.where(np.isnan(score), 0.5, score)
    np.fill_diagonal(s, 0.5)
    a = (s - s.T) / 2
    n = len(names)
    # Variables (p_1..p_n, v): maximise v subject to (A^T p)_j >= v for all j, sum p = 1, p >= 0.
    lp = optimize.linprog(
        c=np.r_[np.zeros(n), -1.0],
        A_ub=np.c_[-a.T, np.ones(n)],
        b_ub=np.zeros(n),
        A_eq=np.r_[np.ones(n), 0.0][None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * n + [(None, None)],
        method="highs",
    )
    if not lp.success:
        raise RuntimeError(f"nash_average: linprog failed: {lp.message}")
    p_lp = np.clip(lp.x[:n], 0.0, None)
    p_lp /= p_lp.sum()

    def neg_entropy(p: np.ndarray) -> tuple[float, np.ndarray]:
        q = np.clip(p, 1e-15, None)
        return float(np.sum(q * np.log(q))), np.log(q) + 1.0

    def entropy(p: np.ndarray) -> float:
        return -neg_entropy(p)[0]

    p, max_entropy = p_lp, False
    if n > 1:
        res = optimize.minimize(
            neg_entropy,
            p_lp,
            jac=True,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * n,
            constraints=[
                {"type": "eq", "fun": lambda p: p.sum() - 1.0, "jac": lambda p: np.ones((1, n))},
                {"type": "ineq", "fun": lambda p: 1e-10 - a @ p, "jac": lambda p: -a},
            ],
            options={"ftol": 1e-14, "maxiter": 500},
        )
        q = np.clip(res.x, 0.0, None)
        feasible = abs(q.sum() - 1.0) < 1e-6 and bool(np.all(a @ q <= 1e-6))
        if res.success and feasible and entropy(q / q.sum()) >= entropy(p_lp) - 1e-12:
            p, max_entropy = q / q.sum(), True
    else:
        max_entropy = True
    p = np.where(a @ p < -1e-6, 0.0, p)
    p /= p.sum()
    skill = np.where(p > 0, 0.0, np.minimum(a @ p, 0.0))
    return NashAverage(
        weights={name: float(w) for name, w in zip(names, p, strict=True)},
        skill={name: float(x) for name, x in zip(names, skill, strict=True)},
        max_entropy=max_entropy,
    )


# ------------------------------------------------------------------------------------------ α-Rank


def alpha_rank(
    matrix_or_payoff: PayoffMatrix | Any,
    *,
    alpha: float | None = None,
    agents: Sequence[str] | None = None,
    population_size: int = 50,
) -> dict[str, float]:
    """α-Rank (Omidshafiei et al. 2019) stationary distribution over agents, via OpenSpiel's
    ``open_spiel.python.egt.alpharank``, as a single-population symmetric game whose payoff is the score
    matrix (unplayed pairs and the diagonal = 0.5; input as for :func:`nash_average`).

    With ``alpha=None`` (default) ``alpharank.sweep_pi_vs_alpha`` raises the selection intensity from
    1e-4 until the distribution stops changing (the large-α limit, which is what ranks); with a number,
    ``alpharank.compute(..., alpha=alpha)`` is used as is. OpenSpiel's printing is suppressed. Returns
    ``{agent: probability mass}``; sort by it for the ranking.

    OpenSpiel's alpharank imports matplotlib: without it this raises ImportError (install the plots extra).
    """
    names, score = _score_matrix(matrix_or_payoff, agents)
    s = np.where(np.isnan(score), 0.5, score)
    np.fill_diagonal(s, 0.5)
    try:
        from open_spiel.python.egt import alpharank
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "matplotlib":
            raise ImportError(
                "alpha_rank needs matplotlib (OpenSpiel's alpharank imports it): "
                "pip install 'redqueen[plots]'"
            ) from exc
        raise
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        if alpha is None:
            pi = alpharank.sweep_pi_vs_alpha([s], m=population_size)
        else:
            try:
                pi = alpharank.compute([s], m=population_size, alpha=alpha)[2]
            except ValueError as exc:
                raise ValueError(f"alpha_rank: alpha={alpha} failed ({exc}); try alpha=None") from exc
    pi = np.asarray(pi, dtype=float)
    return {name: float(x) for name, x in zip(names, pi, strict=True)}
