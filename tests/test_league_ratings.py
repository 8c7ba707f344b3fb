"""Tests for redqueen.league.ratings: batch/online Elo, OpenSkill, payoff matrix, Nash averaging, α-Rank."""

from __future__ import annotations

import json
import math
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from redqueen.league.ratings import (
    PayoffMatrix,
    Result,
    SkillRating,
    alpha_rank,
    elo_fit,
    elo_online,
    expected_score,
    nash_average,
    openskill_ratings,
    payoff_matrix,
)

TRUE_ELO = {"a": 0.0, "b": 200.0, "c": 400.0, "d": 600.0}
N_GAMES = 4000


def synthetic_games(true: dict[str, float], n_games: int, seed: int, draw_share: float = 0.3) -> list[Result]:
    """Games between random pairs (random seat order) whose expected score follows the Elo model exactly:
    a draw with probability ``draw_share * 2 * min(p, 1 - p)``, otherwise a win/loss so that the expected
    score of the first seat stays ``p = expected_score(r_first, r_second)``."""
    rng = np.random.default_rng(seed)
    names = list(true)
    games = []
    for _ in range(n_games):
        i, j = rng.choice(len(names), size=2, replace=False)
        a, b = names[i], names[j]
        p = expected_score(true[a], true[b])
        draw = draw_share * 2 * min(p, 1 - p)
        u = rng.random()
        returns = (0.0, 0.0) if u < draw else (1.0, -1.0) if u < draw + (p - draw / 2) else (-1.0, 1.0)
        games.append(Result((a, b), returns))
    return games


def centred(ratings: dict[str, float], names: list[str]) -> np.ndarray:
    values = np.array([ratings[n] for n in names])
    return values - values.mean()


@pytest.fixture(scope="module")
def elo_games() -> list[Result]:
    return synthetic_games(TRUE_ELO, N_GAMES, seed=7)


# ------------------------------------------------------------------------------------------------ Elo


def test_elo_fit_recovers_true_ratings(elo_games: list[Result]) -> None:
    names = list(TRUE_ELO)
    fitted = elo_fit(elo_games)
    assert np.mean(list(fitted.values())) == pytest.approx(1000.0)
    # Tolerance from the sample size: 4 standard errors of each centred rating, from the Fisher information
    # of the Bradley-Terry likelihood at the true ratings (N_GAMES / 6 games per pair; draws only lower the
    # variance, so this is conservative). It comes to 31-39 points here.
    x = np.array(list(TRUE_ELO.values())) * math.log(10) / 400
    p = 1 / (1 + np.exp(x[None, :] - x[:, None]))
    weights = (N_GAMES / 6) * p * (1 - p)
    np.fill_diagonal(weights, 0.0)
    fisher = np.diag(weights.sum(axis=1)) - weights
    se = np.sqrt(np.diag(np.linalg.pinv(fisher))) * 400 / math.log(10)
    tol = 4 * se
    assert np.all(tol < 40)
    err = centred(fitted, names) - centred(TRUE_ELO, names)
    assert np.all(np.abs(err) < tol), (err, tol)
    assert sorted(names, key=fitted.__getitem__) == names


def test_batch_fit_beats_online_and_ignores_order(elo_games: list[Result]) -> None:
    names = list(TRUE_ELO)
    truth = centred(TRUE_ELO, names)
    batch = elo_fit(elo_games)
    online = elo_online(elo_games)
    rmse_batch = np.sqrt(np.mean((centred(batch, names) - truth) ** 2))
    rmse_online = np.sqrt(np.mean((centred(online, names) - truth) ** 2))
    assert rmse_batch <= rmse_online
    shuffled = list(elo_games)
    np.random.default_rng(3).shuffle(shuffled)
    batch_shuffled = elo_fit(shuffled)
    for n in names:
        assert batch_shuffled[n] == pytest.approx(batch[n], abs=1e-4)
    online_shuffled = elo_online(shuffled)
    assert any(abs(online_shuffled[n] - online[n]) > 1 for n in names)


def test_always_winning_agent_gets_finite_top_rating(elo_games: list[Result]) -> None:
    games = list(elo_games) + [Result(("z", n), (1.0, 0.0)) for n in TRUE_ELO for _ in range(10)]
    fitted = elo_fit(games)
    assert math.isfinite(fitted["z"])
    assert fitted["z"] > max(fitted[n] for n in TRUE_ELO)
    # Also with nothing but wins for one of two agents.
    two = elo_fit([Result(("w", "l"), (1.0, 0.0))] * 5)
    assert math.isfinite(two["w"]) and two["w"] > two["l"]
    assert two["w"] + two["l"] == pytest.approx(2000.0)


def test_anchor_pins_a_rating(elo_games: list[Result]) -> None:
    plain = elo_fit(elo_games)
    anchored = elo_fit(elo_games, anchor="a", base=0.0)
    assert anchored["a"] == pytest.approx(0.0, abs=1e-9)
    for n in TRUE_ELO:
        assert anchored[n] - anchored["b"] == pytest.approx(plain[n] - plain["b"], abs=1e-6)


def test_self_play_is_ignored_by_elo() -> None:
    games = [Result(("a", "b"), (1.0, 0.0)), Result(("b", "a"), (1.0, 0.0)), Result(("a", "b"), (1.0, 0.0))]
    with_self = [*games, Result(("a", "a"), (1.0, 0.0)), Result(("c", "c"), (0.0, 1.0))]
    plain, other = elo_fit(games), elo_fit(with_self)
    assert other["a"] - other["b"] == pytest.approx(plain["a"] - plain["b"], abs=1e-6)
    assert elo_online(with_self)["c"] == 1000.0


def test_elo_online_is_the_classic_update() -> None:
    games = [Result(("a", "b"), (1.0, 0.0)), Result(("b", "c"), (0.5, 0.5))]
    r = elo_online(games, k=32, base=1500)
    assert r["a"] == pytest.approx(1516.0)
    assert r["b"] == pytest.approx(1484.0 + 32 * (0.5 - expected_score(1484.0, 1500.0)))
    assert r["a"] + r["b"] + r["c"] == pytest.approx(4500.0)
    assert expected_score(1400, 1000) == pytest.approx(10 / 11)


def test_elo_fit_matches_openspiel_without_draws() -> None:
    from open_spiel.python.algorithms import elo as os_elo

    names = ["a", "b", "c", "d"]
    true = dict(zip(names, [0.0, 150.0, 300.0, 450.0], strict=True))
    games = synthetic_games(true, 2000, seed=1, draw_share=0.0)
    win_matrix = np.zeros((4, 4), dtype=np.int64)
    for g in games:
        i, j = names.index(g.seats[0]), names.index(g.seats[1])
        if g.returns[0] > g.returns[1]:
            win_matrix[i, j] += 1
        else:
            win_matrix[j, i] += 1
    ours = centred(elo_fit(games, prior_games=0.0), names)
    # OpenSpiel's MM algorithm with no smoothing is the same maximum-likelihood fit.
    exact = np.asarray(os_elo.compute_ratings_from_matrices(win_matrix, smoothing_factor=0.0))
    np.testing.assert_allclose(ours, exact - exact.mean(), atol=1e-3)
    # Its default smoothing (0.01) is a slightly different regulariser: still within a point.
    smoothed = np.asarray(os_elo.compute_ratings_from_matrices(win_matrix))
    np.testing.assert_allclose(ours, smoothed - smoothed.mean(), atol=1.0)


# ------------------------------------------------------------------------------------------- OpenSkill


FIVE = ("p1", "p2", "p3", "p4", "p5")


def test_openskill_five_player_game_orders_mu_and_shrinks_sigma() -> None:
    from openskill.models import PlackettLuce

    prior = PlackettLuce().rating()
    ratings = openskill_ratings([Result(FIVE, (5.0, 4.0, 3.0, 2.0, 1.0))])
    mus = [ratings[p].mu for p in FIVE]
    assert mus == sorted(mus, reverse=True) and len(set(mus)) == 5
    assert all(ratings[p].sigma < prior.sigma for p in FIVE)
    assert all(isinstance(r, SkillRating) for r in ratings.values())
    assert ratings["p1"].ordinal == pytest.approx(ratings["p1"].mu - 3 * ratings["p1"].sigma)


def test_openskill_ties_share_equal_updates() -> None:
    ratings = openskill_ratings([Result(FIVE, (1.0, 3.0, 1.0, 0.0, 3.0))])
    assert ratings["p2"] == ratings["p5"]
    assert ratings["p1"] == ratings["p3"]
    assert ratings["p2"].mu > ratings["p1"].mu > ratings["p4"].mu


def test_openskill_matches_the_model_called_directly() -> None:
    from openskill.models import BradleyTerryFull, PlackettLuce

    games = [Result(FIVE, (5.0, 4.0, 3.0, 2.0, 1.0)), Result(FIVE[::-1], (0.0, 2.0, 2.0, 1.0, 7.0))]
    for cls in (PlackettLuce, BradleyTerryFull):
        model = cls()
        direct = {p: model.rating() for p in FIVE}
        for ranks, order in (([0, 1, 2, 3, 4], FIVE), ([4, 1, 1, 3, 0], FIVE[::-1])):
            new = model.rate([[direct[p]] for p in order], ranks=ranks)
            direct.update({p: team[0] for p, team in zip(order, new, strict=True)})
        ours = openskill_ratings(games, model=cls.__name__)
        for p in FIVE:
            assert ours[p].mu == direct[p].mu
            assert ours[p].sigma == direct[p].sigma
            assert ours[p].ordinal == direct[p].ordinal()
    assert openskill_ratings(games, model=PlackettLuce(mu=0.0, sigma=1.0))["p1"].mu < 1.0


def test_openskill_per_role_keeps_roles_apart() -> None:
    roles = ("spy", "civilian", "civilian", "civilian", "civilian")
    games = [
        Result(FIVE, (1.0, 0.0, 0.0, 0.0, 0.0), roles),  # p1 wins as the spy
        Result(FIVE[1:] + FIVE[:1], (1.0, 0.0, 0.0, 0.0, 0.0), roles),  # p1 loses as a civilian
    ]
    ratings = openskill_ratings(games, mode="per_role")
    spy, civ = ratings[("p1", "spy")], ratings[("p1", "civilian")]
    assert spy.mu > 25.0 > civ.mu
    assert ratings[("p2", "spy")].mu > 25.0
    assert set(ratings) == {("p1", "spy"), ("p2", "spy")} | {(p, "civilian") for p in FIVE}
    ffa = openskill_ratings(games)
    assert set(ffa) == set(FIVE)


def test_openskill_self_play() -> None:
    assert openskill_ratings([Result(("x", "x"), (1.0, 0.0))])["x"].mu == 25.0
    r = openskill_ratings([Result(("x", "x", "y"), (1.0, 1.0, 0.0))])
    assert r["x"].mu > 25.0 > r["y"].mu


# -------------------------------------------------------------------------------------- payoff matrix


def hand_built() -> list[Result]:
    return [
        # a vs b: a wins 3 (in both seat orders), draws 1, loses 1 -> score 3.5 / 5 = 0.7
        Result(("a", "b"), (1.0, 0.0)),
        Result(("b", "a"), (-2.0, 3.0)),
        Result(("a", "b"), (2.0, 1.0)),
        Result(("a", "b"), (0.5, 0.5)),
        Result(("b", "a"), (4.0, 0.0)),
        # a vs c: a wins both
        Result(("c", "a"), (0.0, 1.0)),
        Result(("a", "c"), (1.0, 0.0)),
        # self-play: skipped
        Result(("b", "b"), (1.0, 0.0)),
    ]


def test_payoff_matrix_counts_and_wilson() -> None:
    m = payoff_matrix(hand_built())
    assert m.agents == ["a", "b", "c"]
    a, b, c = 0, 1, 2
    assert (m.games[a, b], m.wins[a, b], m.draws[a, b], m.losses[a, b]) == (5, 3, 1, 1)
    assert (m.wins[b, a], m.draws[b, a], m.losses[b, a]) == (1, 1, 3)
    assert m.games[b, b] == 0 and m.games[b, c] == 0 and m.games[a, c] == 2
    assert m.score[a, b] == pytest.approx(0.7)
    # Wilson at 95 %, n = 5, p = 0.7, z = 1.959964: (p + z²/2n ∓ z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    assert m.score_low[a, b] == pytest.approx(0.298791, abs=1e-6)
    assert m.score_high[a, b] == pytest.approx(0.927416, abs=1e-6)
    # With an integer number of successes it is scipy's Wilson interval.
    ci = stats.binomtest(2, 2).proportion_ci(confidence_level=0.95, method="wilson")
    assert (m.score_low[a, c], m.score_high[a, c]) == pytest.approx((ci.low, ci.high))
    for i, j in [(b, c), (c, b), (a, a), (b, b)]:
        assert math.isnan(m.score[i, j]) and math.isnan(m.score_low[i, j]) and math.isnan(m.mean_return[i, j])
    played = m.games > 0
    np.testing.assert_allclose((m.score + m.score.T)[played], 1.0)
    a_returns = np.array([1.0, 3.0, 2.0, 0.5, 0.0])
    assert m.mean_return[a, b] == pytest.approx(a_returns.mean())
    assert m.mean_return_ci[a, b] == pytest.approx(1.959964 * a_returns.std(ddof=1) / math.sqrt(5), rel=1e-5)
    assert m.mean_return[b, a] == pytest.approx(np.mean([0.0, -2.0, 1.0, 0.5, 4.0]))
    narrower = payoff_matrix(hand_built(), confidence=0.5)
    assert narrower.score_low[a, b] > m.score_low[a, b]


def test_payoff_matrix_agents_order_and_json() -> None:
    m = payoff_matrix(hand_built(), agents=["c", "b", "a", "newcomer"])
    assert m.agents == ["c", "b", "a", "newcomer"]
    assert m.score[2, 1] == pytest.approx(0.7)
    assert np.all(m.games[3] == 0) and np.all(np.isnan(m.score[3]))
    d = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    assert d["agents"] == m.agents and d["games"][2][1] == 5
    assert d["score"][3] == [None] * 4 and d["score"][2][1] == pytest.approx(0.7)


# ------------------------------------------------------------------------------------- Nash averaging

RPS = np.array([[0.5, 1.0, 0.0], [0.0, 0.5, 1.0], [1.0, 0.0, 0.5]])
RPS_PLUS_DOMINATED = np.array(
    [[0.5, 1.0, 0.0, 0.8], [0.0, 0.5, 1.0, 0.8], [1.0, 0.0, 0.5, 0.8], [0.2, 0.2, 0.2, 0.5]]
)
TRANSITIVE = np.array(
    [[0.5, 0.7, 0.8, 0.9], [0.3, 0.5, 0.6, 0.8], [0.2, 0.4, 0.5, 0.6], [0.1, 0.2, 0.4, 0.5]]
)


def test_nash_average_rock_paper_scissors() -> None:
    nash = nash_average(RPS, agents=["rock", "paper", "scissors"])
    assert nash.weights == pytest.approx({"rock": 1 / 3, "paper": 1 / 3, "scissors": 1 / 3}, abs=1e-6)
    assert nash.skill == {"rock": 0.0, "paper": 0.0, "scissors": 0.0}


def test_nash_average_dominated_agent_gets_no_weight() -> None:
    nash = nash_average(RPS_PLUS_DOMINATED)
    assert [nash.weights[k] for k in "012"] == pytest.approx([1 / 3] * 3, abs=1e-6)
    assert nash.weights["3"] == 0.0
    assert nash.skill["3"] == pytest.approx(-0.3)
    assert nash.max_entropy


def test_nash_average_transitive_league_and_payoff_input(elo_games: list[Result]) -> None:
    nash = nash_average(TRANSITIVE)
    assert nash.weights == {"0": 1.0, "1": 0.0, "2": 0.0, "3": 0.0}
    assert nash.skill["0"] == 0.0 and all(nash.skill[k] < 0 for k in "123")
    from_games = nash_average(payoff_matrix(elo_games))
    assert from_games.weights["d"] == 1.0
    assert from_games.skill["a"] < from_games.skill["b"] < from_games.skill["c"] < 0


def test_nash_average_picks_max_entropy_among_equilibria() -> None:
    # Two identical copies of rock: every split of rock's mass between them is a Nash; max entropy splits it.
    s = np.array([[0.5, 0.5, 1.0, 0.0], [0.5, 0.5, 1.0, 0.0], [0.0, 0.0, 0.5, 1.0], [1.0, 1.0, 0.0, 0.5]])
    nash = nash_average(s)
    assert [nash.weights[k] for k in "0123"] == pytest.approx([1 / 6, 1 / 6, 1 / 3, 1 / 3], abs=1e-5)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: st.lists(st.floats(0, 1), min_size=n * n, max_size=n * n)))
def test_nash_average_is_an_equilibrium(flat: list[float]) -> None:
    n = math.isqrt(len(flat))
    upper = np.triu(np.array(flat).reshape(n, n), 1)
    s = upper + np.tril(1 - upper.T, -1) + 0.5 * np.eye(n)
    nash = nash_average(s)
    p = np.array(list(nash.weights.values()))
    assert np.all(p >= 0) and p.sum() == pytest.approx(1.0)
    assert np.all((s - 0.5) @ p <= 1e-5)
    assert all(v <= 0 for v in nash.skill.values())


# -------------------------------------------------------------------------------------------- α-Rank


def test_alpha_rank_transitive_and_cycle() -> None:
    ranks = alpha_rank(TRANSITIVE, agents=["best", "good", "fair", "poor"])
    assert max(ranks, key=ranks.__getitem__) == "best"
    assert ranks["best"] > 0.9 and sum(ranks.values()) == pytest.approx(1.0)
    cycle = alpha_rank(RPS)
    assert list(cycle.values()) == pytest.approx([1 / 3] * 3, abs=1e-6)
    fixed = alpha_rank(TRANSITIVE, alpha=10.0)
    assert max(fixed, key=fixed.__getitem__) == "0"


def test_alpha_rank_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    import open_spiel.python.egt as egt

    for name in list(sys.modules):
        if name.startswith("matplotlib") or name.startswith("open_spiel.python.egt."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for attr in ("alpharank", "alpharank_visualizer"):
        monkeypatch.delattr(egt, attr, raising=False)
    with pytest.raises(ImportError, match=r"redqueen\[plots\]"):
        alpha_rank(RPS)


# ------------------------------------------------------------------------------------------ bad input


def test_bad_input_raises_value_errors() -> None:
    good = [Result(("a", "b"), (1.0, 0.0))]
    with pytest.raises(ValueError, match="empty"):
        elo_fit([])
    for fn in (elo_online, openskill_ratings, payoff_matrix):
        with pytest.raises(ValueError, match="empty"):
            fn([])
    with pytest.raises(ValueError, match="anchor 'zed'"):
        elo_fit(good, anchor="zed")
    mismatched = SimpleNamespace(seats=["a", "b"], returns=[1.0])
    for fn in (elo_fit, elo_online, openskill_ratings, payoff_matrix):
        with pytest.raises(ValueError, match=r"record 1 .*2 seats, 1 returns"):
            fn([*good, mismatched])
    nan = Result(("a", "b"), (float("nan"), 0.0))
    for fn in (elo_fit, openskill_ratings, payoff_matrix):
        with pytest.raises(ValueError, match="NaN"):
            fn([nan])
    three = Result(("a", "b", "c"), (1.0, 0.0, 0.0))
    for fn in (elo_fit, elo_online, payoff_matrix):
        with pytest.raises(ValueError, match=r"record 0 with seats \['a', 'b', 'c'\].*two-player"):
            fn([three])
    with pytest.raises(ValueError, match="at least two seats"):
        openskill_ratings([Result(("a",), (1.0,))])
    with pytest.raises(ValueError, match=r"needs roles, record 0 with seats \[.a., .b.\] has none"):
        openskill_ratings(good, mode="per_role")
    with pytest.raises(ValueError, match="roles differ"):
        openskill_ratings([Result(("a", "b"), (1.0, 0.0), roles=("spy",))], mode="per_role")
    with pytest.raises(ValueError, match="mode"):
        openskill_ratings(good, mode="teams")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown openskill model"):
        openskill_ratings(good, model="Glicko")
    with pytest.raises(ValueError, match=r"agent 'b', not in agents \['a'\]"):
        payoff_matrix(good, agents=["a"])
    with pytest.raises(ValueError, match="duplicates"):
        payoff_matrix(good, agents=["a", "b", "a"])
    with pytest.raises(ValueError, match="square"):
        nash_average(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        alpha_rank(np.array([[0.5, 2.0], [-1.0, 0.5]]))
    with pytest.raises(ValueError, match="agent names"):
        nash_average(RPS, agents=["a", "b"])
    with pytest.raises(ValueError, match="confidence"):
        payoff_matrix(good, confidence=1.0)
    assert isinstance(payoff_matrix(good), PayoffMatrix)
