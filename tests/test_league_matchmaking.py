"""Tests for redqueen.league.matchmaking: PFSP weights, the decayed payoff table and AlphaStar's roles."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redqueen.league.matchmaking import (
    LearnerInfo,
    Match,
    Matchmaker,
    Payoff,
    pfsp_weights,
    sample_counts,
)

RATES = [0.95, 0.7, 0.5, 0.2]
N = 3000


def _normalised(values: list[float]) -> list[float]:
    total = sum(values)
    return [v / total for v in values]


def assert_frequency(count: int, n: int, p: float) -> None:
    """``count`` of ``n`` draws is within 4 binomial standard deviations of ``n * p``."""
    sd = math.sqrt(n * p * (1 - p))
    assert abs(count - n * p) <= 4 * sd + 1, f"{count}/{n} draws, expected p = {p:.4f} (sd {sd:.1f})"


def assert_distribution(counts: Counter[str] | dict[str, int], expected: dict[str, float]) -> None:
    n = sum(counts.values())
    assert set(counts) <= {k for k, p in expected.items() if p > 0}, (counts, expected)
    for name, p in expected.items():
        assert_frequency(counts.get(name, 0), n, p)


def draws(mm: Matchmaker, learner: str, n: int = N, seed: int = 0, method: str = "role") -> list[Match]:
    rng = np.random.default_rng(seed)
    return [mm.get_match(learner, rng, method) for _ in range(n)]


# ---- pfsp_weights ------------------------------------------------------------------------------------


def test_pfsp_hard_squared_exact():
    expected = _normalised([(1 - x) ** 2 for x in RATES])
    # by hand: 0.05², 0.3², 0.5², 0.8² over their sum 0.9825
    assert expected == pytest.approx([0.0025 / 0.9825, 0.09 / 0.9825, 0.25 / 0.9825, 0.64 / 0.9825])
    assert pfsp_weights(RATES, "hard", p=2) == pytest.approx(expected, abs=1e-12)
    assert pfsp_weights(RATES) == pytest.approx(expected, abs=1e-12)  # default: hard, p = 2
    assert pfsp_weights(RATES, "squared") == pytest.approx(expected, abs=1e-12)


def test_pfsp_hard_linear_exact():
    expected = [0.05 / 1.65, 0.3 / 1.65, 0.5 / 1.65, 0.8 / 1.65]
    assert pfsp_weights(RATES, "hard", p=1) == pytest.approx(expected, abs=1e-12)
    assert pfsp_weights(RATES, "linear") == pytest.approx(expected, abs=1e-12)


def test_pfsp_hard_other_exponent():
    expected = _normalised([(1 - x) ** 3.5 for x in RATES])
    assert pfsp_weights(RATES, "hard", p=3.5) == pytest.approx(expected, abs=1e-12)


def test_pfsp_var_exact():
    # x (1 - x): 0.0475, 0.21, 0.25, 0.16; sum 0.6675
    expected = [0.0475 / 0.6675, 0.21 / 0.6675, 0.25 / 0.6675, 0.16 / 0.6675]
    assert pfsp_weights(RATES, "var") == pytest.approx(expected, abs=1e-12)


def test_pfsp_linear_capped_exact():
    # min(0.5, 1 - x): 0.05, 0.3, 0.5, 0.5; sum 1.35
    expected = [0.05 / 1.35, 0.3 / 1.35, 0.5 / 1.35, 0.5 / 1.35]
    assert pfsp_weights(RATES, "linear_capped") == pytest.approx(expected, abs=1e-12)


def test_pfsp_uniform():
    assert pfsp_weights(RATES, "uniform") == pytest.approx([0.25] * 4)


def test_pfsp_all_beaten_is_uniform_not_nan():
    for weighting in ("hard", "squared", "linear", "linear_capped"):
        w = pfsp_weights([1.0, 1.0, 1.0], weighting)
        assert np.all(np.isfinite(w))
        assert w == pytest.approx([1 / 3] * 3)


def test_pfsp_var_certain_results_is_uniform():
    w = pfsp_weights([0.0, 1.0, 1.0, 0.0, 1.0], "var")
    assert np.all(np.isfinite(w))
    assert w == pytest.approx([0.2] * 5)


def test_pfsp_zero_weight_for_beaten_opponent_when_others_are_not():
    w = pfsp_weights([1.0, 0.5], "hard")
    assert w == pytest.approx([0.0, 1.0])


@pytest.mark.parametrize("weighting", ["hard", "squared", "linear", "var", "linear_capped", "uniform"])
def test_pfsp_sums_to_one(weighting):
    w = pfsp_weights(RATES, weighting)
    assert w.sum() == pytest.approx(1.0)
    assert w.shape == (4,)
    assert np.all(w >= 0)


@pytest.mark.parametrize(
    "rates",
    [[], [[0.1, 0.2]], [0.5, float("nan")], [0.5, float("inf")], [-0.01, 0.5], [0.5, 1.01]],
)
def test_pfsp_bad_rates(rates):
    with pytest.raises(ValueError):
        pfsp_weights(rates)


def test_pfsp_unknown_weighting():
    with pytest.raises(ValueError, match="unknown PFSP weighting"):
        pfsp_weights(RATES, "cubic")  # type: ignore[arg-type]


@pytest.mark.parametrize("p", [0.0, -1.0, float("nan")])
def test_pfsp_bad_exponent(p):
    with pytest.raises(ValueError, match="exponent"):
        pfsp_weights(RATES, "hard", p=p)


@settings(max_examples=200, deadline=None)
@given(
    rates=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=12),
    weighting=st.sampled_from(["hard", "squared", "linear", "var", "linear_capped", "uniform"]),
    p=st.floats(0.1, 8.0),
)
def test_pfsp_property(rates, weighting, p):
    w = pfsp_weights(rates, weighting, p)
    assert w.shape == (len(rates),)
    assert np.all(np.isfinite(w))
    assert np.all(w >= 0)
    assert w.sum() == pytest.approx(1.0, abs=1e-9)
    if weighting == "hard":
        order = np.argsort(rates, kind="stable")
        ordered = w[order]
        assert np.all(np.diff(ordered) <= 1e-12), (rates, w)


# ---- Payoff ----------------------------------------------------------------------------------------


def test_payoff_unplayed_is_half():
    payoff = Payoff()
    assert payoff.win_rate("a", "b") == 0.5
    assert payoff.games("a", "b") == 0.0
    assert payoff.win_rates("a", ["b", "c"]).tolist() == [0.5, 0.5]


def test_payoff_wins_draws_losses():
    payoff = Payoff(decay=1.0)
    payoff.update("a", "b", 1)
    payoff.update("a", "b", 1)
    payoff.update("a", "b", 0.5)
    payoff.update("a", "b", 0)
    assert payoff.win_rate("a", "b") == pytest.approx((2 + 0.5) / 4)
    assert payoff.win_rate("b", "a") == pytest.approx((1 + 0.5) / 4)
    assert payoff.games("a", "b") == payoff.games("b", "a") == 4


def test_payoff_decay_exact_short_sequence():
    payoff = Payoff()  # decay 0.99
    payoff.update("a", "b", 1)  # [w, d, l, n] = [1, 0, 0, 1]
    assert payoff.win_rate("a", "b") == 1.0
    payoff.update("a", "b", 0.5)  # [0.99, 1, 0, 1.99]
    assert payoff.games("a", "b") == pytest.approx(1.99)
    assert payoff.win_rate("a", "b") == pytest.approx((0.99 + 0.5) / 1.99)
    payoff.update("a", "b", 0)  # [0.9801, 0.99, 1, 2.9701]
    assert payoff.games("a", "b") == pytest.approx(2.9701)
    assert payoff.win_rate("a", "b") == pytest.approx((0.9801 + 0.495) / 2.9701)
    assert payoff.win_rate("b", "a") == pytest.approx((1 + 0.495) / 2.9701)


def test_payoff_old_games_weigh_less():
    payoff, plain = Payoff(0.99), Payoff(1.0)
    for table in (payoff, plain):
        table.update("a", "b", 1)
        for _ in range(100):
            table.update("a", "b", 0)
    games = sum(0.99**k for k in range(101))
    assert payoff.games("a", "b") == pytest.approx(games)
    assert payoff.win_rate("a", "b") == pytest.approx(0.99**100 / games)
    assert plain.win_rate("a", "b") == pytest.approx(1 / 101)
    assert payoff.win_rate("a", "b") < plain.win_rate("a", "b")


def test_payoff_decay_only_for_the_pair_that_played():
    payoff = Payoff()
    payoff.update("a", "b", 1)
    payoff.update("a", "b", 0)
    before = payoff.win_rate("a", "b"), payoff.games("a", "b")
    for _ in range(20):
        payoff.update("a", "c", 1)
    assert (payoff.win_rate("a", "b"), payoff.games("a", "b")) == before


def test_payoff_symmetric():
    payoff = Payoff()
    for score in (1, 0.5, 0, 1, 1, 0.5):
        payoff.update("home", "away", score)
    payoff.update("away", "home", 1)
    assert payoff.win_rate("home", "away") == pytest.approx(1 - payoff.win_rate("away", "home"))
    assert payoff.games("home", "away") == pytest.approx(payoff.games("away", "home"))


def test_payoff_weight_counts_several_games_with_one_decay():
    payoff = Payoff()
    payoff.update("a", "b", 1, weight=3)
    payoff.update("a", "b", 0, weight=1)  # [2.97, 0, 1, 3.97]
    assert payoff.games("a", "b") == pytest.approx(3.97)
    assert payoff.win_rate("a", "b") == pytest.approx(2.97 / 3.97)


def test_payoff_bad_arguments():
    with pytest.raises(ValueError):
        Payoff(decay=0)
    with pytest.raises(ValueError):
        Payoff(decay=1.5)
    with pytest.raises(ValueError):
        Payoff().update("a", "b", 0.7)


def test_payoff_add_counts():
    payoff = Payoff()
    payoff.add_counts("a", "b", wins=2, draws=1, losses=1)
    assert payoff.win_rate("a", "b") == pytest.approx(2.5 / 4)
    assert payoff.win_rate("b", "a") == pytest.approx(1.5 / 4)
    assert payoff.games("a", "b") == 4
    payoff.add_counts("a", "b", wins=0, draws=0, losses=4)  # one decay: [1.98, 0.99, 4.99, 7.96]
    assert payoff.games("a", "b") == pytest.approx(7.96)
    assert payoff.win_rate("a", "b") == pytest.approx((1.98 + 0.495) / 7.96)
    assert payoff.win_rate("b", "a") == pytest.approx((4.99 + 0.495) / 7.96)
    payoff.add_counts("a", "c", 0, 0, 0)  # no games: nothing recorded
    assert payoff.games("a", "c") == 0 and payoff.win_rate("a", "c") == 0.5


def test_payoff_from_results():
    def record(seats, returns):
        return SimpleNamespace(seats=seats, returns=returns)

    records = [
        record(("a", "b"), (1.0, -1.0)),  # a wins
        record(("b", "a"), (0.0, 0.0)),  # draw
        record(("a", "a"), (1.0, -1.0)),  # self-play: skipped
        record(("a", "b", "c"), (1.0, 0.0, -1.0)),  # three players: skipped
        record(("b", "a"), (2.0, 1.0)),  # b wins
    ]
    payoff = Payoff.from_results(records)
    expected = Payoff()
    expected.update("a", "b", 1)
    expected.update("a", "b", 0.5)
    expected.update("a", "b", 0)
    assert payoff.win_rate("a", "b") == pytest.approx(expected.win_rate("a", "b"))
    assert payoff.games("a", "b") == pytest.approx(2.9701)
    assert payoff.games("a", "a") == 0
    assert payoff.games("a", "c") == 0 and payoff.games("b", "c") == 0
    assert Payoff.from_results(records, decay=1.0).win_rate("a", "b") == pytest.approx(1.5 / 3)


# ---- Matchmaker ------------------------------------------------------------------------------------


def league(payoff: Payoff | None = None, **kwargs) -> Matchmaker:
    """A main agent M (snapshots M0..M2), a main exploiter E (E0, E1), a league exploiter L (L0) and
    a fixed agent ``random``."""
    learners = [
        LearnerInfo("M", "main", ["M0", "M1", "M2"]),
        LearnerInfo("E", "main_exploiter", ["E0", "E1"]),
        LearnerInfo("L", "league_exploiter", ["L0"]),
    ]
    return Matchmaker(learners, ["random"], payoff if payoff is not None else Payoff(), **kwargs)


EVERYONE = ["random", "M0", "M1", "M2", "E0", "E1", "L0"]


def test_historical_and_mains():
    mm = league()
    assert mm.historical("M") == EVERYONE
    assert [m.name for m in mm.mains()] == ["M"]
    assert LearnerInfo("x").current is None
    assert LearnerInfo("x", snapshots=["a", "b"]).current == "b"


def test_rate_reads_own_name_then_snapshot_then_half():
    payoff = Payoff()
    payoff.update("M2", "random", 0)  # league games of M's latest snapshot
    payoff.update("M2", "E0", 0)
    payoff.update("M", "E0", 1)  # training games of M itself
    mm = league(payoff)
    assert mm.rate("M", "E0") == 1.0  # own training games win over the snapshot's
    assert mm.rate("M", "random") == 0.0  # no training games there: the latest snapshot's
    assert mm.rate("M", "L0") == 0.5  # nobody played it
    assert mm.rate("M", "M2") == 0.5  # its own latest snapshot
    payoff.update("M1", "L0", 1)  # an older snapshot's games do not count
    assert mm.rate("M", "L0") == 0.5
    no_snapshot = Matchmaker([LearnerInfo("N", "main")], ["random"], payoff)
    assert no_snapshot.rate("N", "random") == 0.5
    assert mm.rate_all("M", ["E0", "random", "L0"]).tolist() == [1.0, 0.0, 0.5]


def test_main_branch_frequencies_with_verification_candidate():
    payoff = Payoff()
    payoff.update("M", "E0", 0)  # M loses to an exploiter snapshot: a verification candidate
    mm = league(payoff)
    branches = Counter(m.branch for m in draws(mm, "M"))
    assert_distribution(branches, {"pfsp": 0.5, "verification": 0.15, "self_play": 0.35})


def test_main_branch_frequencies_without_verification_candidate():
    payoff = Payoff()
    payoff.update("M", "M0", 1)  # it beats its past snapshots: nothing forgotten
    payoff.update("M", "M1", 1)
    mm = league(payoff)  # exploiter snapshots unplayed (0.5): not losing
    matches = draws(mm, "M")
    branches = Counter(m.branch for m in matches)
    assert_distribution(branches, {"pfsp": 0.5, "self_play": 0.5})
    assert {m.opponent for m in matches if m.branch == "self_play"} == {"M2"}


def test_main_pfsp_branch_is_hard_pfsp_over_everyone():
    payoff = Payoff()
    rates = {"random": 0.9, "M0": 0.8, "M1": 0.6, "E0": 0.3, "E1": 1.0, "L0": 0.4}
    for opponent, rate in rates.items():
        payoff.add_counts("M", opponent, wins=10 * rate, draws=0, losses=10 * (1 - rate))
    mm = league(payoff)
    got = Counter(m.opponent for m in draws(mm, "M", n=4000) if m.branch == "pfsp")
    x = [rates.get(name, 0.5) for name in EVERYONE]  # M2 (its own snapshot): 0.5
    expected = dict(zip(EVERYONE, _normalised([(1 - v) ** 2 for v in x]), strict=True))
    assert expected["E1"] == 0
    assert_distribution(got, expected)


def test_main_verification_prefers_losing_exploiter_snapshot():
    payoff = Payoff()
    payoff.update("M", "E1", 0)  # loses to E1 (rate 0); E0 unplayed (0.5, not losing)
    mm = league(payoff)  # M0, M1 unplayed (0.5 < 0.7: forgotten) but the exploiter comes first
    matches = draws(mm, "M", n=2000)
    verification = [m.opponent for m in matches if m.branch == "verification"]
    assert verification and set(verification) == {"E1"}


def test_main_verification_threshold_is_strictly_below_03():
    payoff = Payoff(decay=1.0)
    payoff.add_counts("M", "E0", wins=3, draws=0, losses=7)  # rate 0.3 exactly: not losing
    payoff.update("M", "M0", 1)
    payoff.update("M", "M1", 1)
    mm = league(payoff)
    assert mm.rate("M", "E0") == pytest.approx(0.3)
    assert not any(m.branch == "verification" for m in draws(mm, "M", n=1000))


def test_main_verification_falls_back_to_forgotten_main_snapshots():
    payoff = Payoff()
    payoff.update("M", "M0", 1)  # beats M0 (1.0 >= 0.7): not forgotten
    payoff.add_counts("M", "M1", wins=6, draws=0, losses=4)  # 0.6 < 0.7: forgotten
    mm = league(payoff)
    matches = draws(mm, "M", n=2000)
    verification = [m.opponent for m in matches if m.branch == "verification"]
    assert verification and set(verification) == {"M1"}  # never the current M2, never M0


def test_main_verification_pfsp_among_forgotten():
    payoff = Payoff()
    payoff.add_counts("M", "M0", wins=2, draws=0, losses=8)  # 0.2
    payoff.add_counts("M", "M1", wins=6, draws=0, losses=4)  # 0.6
    mm = league(payoff)
    got = Counter(m.opponent for m in draws(mm, "M", n=5000) if m.branch == "verification")
    expected = dict(zip(["M0", "M1"], _normalised([0.8**2, 0.4**2]), strict=True))
    assert_distribution(got, expected)


def test_main_self_play_against_current_snapshot():
    mm = league()
    matches = draws(mm, "M", n=1000)
    assert {m.opponent for m in matches if m.branch == "self_play"} == {"M2"}
    assert not any(m.branch == "curriculum" for m in matches)


def test_main_curriculum_when_losing_to_current():
    payoff = Payoff()
    payoff.update("M", "M2", 0)  # loses to the current main: curriculum over M0, M1
    payoff.add_counts("M", "M1", wins=9, draws=0, losses=1)  # 0.9; M0 unplayed 0.5
    mm = league(payoff)
    matches = draws(mm, "M", n=4000)
    branches = Counter(m.branch for m in matches)
    assert "self_play" not in branches
    assert_frequency(branches["curriculum"], len(matches), 0.35)
    got = Counter(m.opponent for m in matches if m.branch == "curriculum")
    # f_var: 0.5 * 0.5 = 0.25 and 0.9 * 0.1 = 0.09
    assert_distribution(got, {"M0": 0.25 / 0.34, "M1": 0.09 / 0.34})


def test_main_curriculum_needs_past_snapshots():
    payoff = Payoff()
    payoff.update("M", "M0", 0)
    mm = Matchmaker([LearnerInfo("M", "main", ["M0"])], [], payoff)
    matches = draws(mm, "M", n=500)
    assert {m.opponent for m in matches} == {"M0"}
    assert "curriculum" not in {m.branch for m in matches}


def test_main_self_play_picks_among_main_agents():
    learners = [LearnerInfo("A", "main", ["A0"]), LearnerInfo("B", "main", ["B0"])]
    payoff = Payoff()
    payoff.update("A", "B0", 1)  # nothing to verify: A beats B0 and A0 is current
    mm = Matchmaker(learners, [], payoff)
    got = Counter(m.opponent for m in draws(mm, "A") if m.branch == "self_play")
    assert_distribution(got, {"A0": 0.5, "B0": 0.5})


def test_main_without_snapshots_falls_back_to_pfsp():
    mm = Matchmaker([LearnerInfo("M", "main")], ["random", "minimax"], Payoff())
    matches = draws(mm, "M", n=300)
    assert {m.branch for m in matches} == {"pfsp"}
    assert {m.opponent for m in matches} == {"random", "minimax"}


def test_main_exploiter_plays_current_main():
    mm = league()
    matches = draws(mm, "E", n=500)
    assert {(m.opponent, m.branch) for m in matches} == {("M2", "exploit")}


def test_main_exploiter_curriculum_when_it_cannot_win():
    payoff = Payoff(decay=1.0)
    payoff.add_counts("E", "M2", wins=1, draws=0, losses=9)  # 0.1: not above 10%
    payoff.add_counts("E", "M1", wins=8, draws=0, losses=2)  # 0.8; M0 unplayed 0.5
    mm = league(payoff)
    assert mm.rate("E", "M2") == pytest.approx(0.1)
    matches = draws(mm, "E")
    assert {m.branch for m in matches} == {"curriculum"}
    # f_var: 0.25 and 0.16
    assert_distribution(Counter(m.opponent for m in matches), {"M0": 0.25 / 0.41, "M1": 0.16 / 0.41})


def test_main_exploiter_exploits_just_above_threshold():
    payoff = Payoff(decay=1.0)
    payoff.add_counts("E", "M2", wins=11, draws=0, losses=89)  # 0.11
    mm = league(payoff)
    assert {m.branch for m in draws(mm, "E", n=300)} == {"exploit"}


def test_main_exploiter_picks_among_main_agents():
    learners = [
        LearnerInfo("A", "main", ["A0"]),
        LearnerInfo("B", "main", ["B0"]),
        LearnerInfo("E", "main_exploiter", ["E0"]),
    ]
    mm = Matchmaker(learners, [], Payoff())
    assert_distribution(Counter(m.opponent for m in draws(mm, "E")), {"A0": 0.5, "B0": 0.5})


def test_main_exploiter_without_main_agents_is_a_league_exploiter():
    payoff = Payoff()
    payoff.add_counts("E", "random", wins=9, draws=0, losses=1)  # 0.9
    payoff.add_counts("E", "M0", wins=2, draws=0, losses=8)  # 0.2
    learners = [LearnerInfo("M", "main"), LearnerInfo("E", "main_exploiter", ["E0"])]  # M: no snapshot
    mm = Matchmaker(learners, ["random", "M0"], payoff)
    matches = draws(mm, "E")
    assert {m.branch for m in matches} == {"pfsp"}
    # linear_capped over random (0.9), M0 (0.2), E0 (0.5): 0.1, 0.5, 0.5
    assert_distribution(
        Counter(m.opponent for m in matches), {"random": 0.1 / 1.1, "M0": 0.5 / 1.1, "E0": 0.5 / 1.1}
    )


def test_league_exploiter_linear_capped_over_everyone():
    payoff = Payoff()
    rates = {"random": 0.9, "M0": 0.6, "M2": 0.2, "E0": 1.0, "E1": 0.75}
    for opponent, rate in rates.items():
        payoff.add_counts("L", opponent, wins=20 * rate, draws=0, losses=20 * (1 - rate))
    mm = league(payoff)
    x = [rates.get(name, 0.5) for name in EVERYONE]
    weights = pfsp_weights(x, "linear_capped")
    # by hand: min(0.5, 1 - x) = 0.1, 0.4, 0.5, 0.5, 0, 0.25, 0.5; sum 2.25
    assert weights == pytest.approx([w / 2.25 for w in (0.1, 0.4, 0.5, 0.5, 0.0, 0.25, 0.5)])
    matches = draws(mm, "L")
    assert {m.branch for m in matches} == {"pfsp"}
    assert_distribution(Counter(m.opponent for m in matches), dict(zip(EVERYONE, weights, strict=True)))


def test_league_exploiter_weighting_is_configurable():
    payoff = Payoff()
    payoff.add_counts("L", "random", wins=1, draws=0, losses=3)  # 0.25
    mm = Matchmaker([LearnerInfo("L", "league_exploiter", ["L0"])], ["random"], payoff)
    hard = Matchmaker(
        [LearnerInfo("L", "league_exploiter", ["L0"])], ["random"], payoff, league_exploiter_weighting="hard"
    )
    # linear_capped: 0.5, 0.5; hard (p = 2): 0.5625, 0.25
    assert_distribution(Counter(m.opponent for m in draws(mm, "L")), {"random": 0.5, "L0": 0.5})
    expected = dict(zip(["random", "L0"], _normalised([0.5625, 0.25]), strict=True))
    assert_distribution(Counter(m.opponent for m in draws(hard, "L")), expected)


def test_resets_after_snapshot():
    mm = league()
    rng = np.random.default_rng(1)
    assert not any(mm.resets_after_snapshot("M", rng) for _ in range(500))
    assert all(mm.resets_after_snapshot("E", rng) for _ in range(500))
    resets = sum(mm.resets_after_snapshot("L", rng) for _ in range(N))
    assert_frequency(resets, N, 0.25)


def test_method_uniform():
    payoff = Payoff()
    payoff.update("M", "random", 1)  # would matter to PFSP, not to uniform
    mm = league(payoff)
    matches = draws(mm, "M", method="uniform")
    assert {m.branch for m in matches} == {"uniform"}
    assert_distribution(Counter(m.opponent for m in matches), dict.fromkeys(EVERYONE, 1 / len(EVERYONE)))


def test_method_pfsp_and_pfsp_var():
    payoff = Payoff()
    rates = {"random": 0.9, "M0": 0.1, "E0": 1.0}
    for opponent, rate in rates.items():
        payoff.add_counts("L", opponent, wins=10 * rate, draws=0, losses=10 * (1 - rate))
    mm = league(payoff, p=1.0)
    x = [rates.get(name, 0.5) for name in EVERYONE]
    for method, weighting in (("pfsp", "linear"), ("pfsp_var", "var")):
        matches = draws(mm, "L", method=method)
        assert {m.branch for m in matches} == {method}
        weights = pfsp_weights(x, weighting)
        assert_distribution(Counter(m.opponent for m in matches), dict(zip(EVERYONE, weights, strict=True)))


def test_method_self_play():
    mm = league()
    assert {(m.opponent, m.branch) for m in draws(mm, "E", n=50, method="self_play")} == {("E1", "self_play")}
    lonely = Matchmaker([LearnerInfo("N", "main")], ["random"], Payoff())
    with pytest.raises(ValueError, match="no snapshot"):
        lonely.get_match("N", np.random.default_rng(0), "self_play")


def test_errors():
    mm = league()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown matchmaking"):
        mm.get_match("M", rng, "elo")
    with pytest.raises(ValueError, match="unknown learner"):
        mm.get_match("nobody", rng)
    with pytest.raises(ValueError, match="unknown role"):
        Matchmaker([LearnerInfo("X", "coach")], ["random"], Payoff())  # type: ignore[arg-type]
    empty = Matchmaker([LearnerInfo("M", "main"), LearnerInfo("E", "main_exploiter")], [], Payoff())
    for learner in ("M", "E"):
        for method in ("role", "uniform", "pfsp"):
            with pytest.raises(ValueError, match="no frozen player"):
                empty.get_match(learner, rng, method)


def test_match_fields():
    match = Match("a", "pfsp")
    assert (match.opponent, match.branch, match.teacher) == ("a", "pfsp", True)
    assert Match("a", "self_play", teacher=False).teacher is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        match.opponent = "b"  # type: ignore[misc]
    payoff = Payoff()
    payoff.update("M", "E0", 0)
    payoff.update("M", "M2", 0)
    mm = league(payoff)
    seen = set()
    for learner in ("M", "E", "L"):
        for match in draws(mm, learner, n=400):
            assert isinstance(match, Match)
            assert match.opponent in EVERYONE
            assert match.teacher is True  # every opponent is a frozen player
            seen.add((learner, match.branch))
    assert seen == {
        ("M", "pfsp"),
        ("M", "verification"),
        ("M", "curriculum"),
        ("E", "exploit"),
        ("L", "pfsp"),
    }


def test_same_seed_same_schedule():
    mm = league()
    assert draws(mm, "M", n=200, seed=7) == draws(mm, "M", n=200, seed=7)
    assert draws(mm, "M", n=200, seed=7) != draws(mm, "M", n=200, seed=8)


def test_sample_counts():
    mm = league()
    counts = sample_counts(mm, "L", np.random.default_rng(3), 1000)
    assert sum(counts.values()) == 1000
    assert set(counts) <= set(EVERYONE)
    expected = sample_counts(mm, "L", np.random.default_rng(3), 1000)
    assert counts == expected
    uniform = sample_counts(mm, "L", np.random.default_rng(3), N, method="uniform")
    assert_distribution(uniform, dict.fromkeys(EVERYONE, 1 / len(EVERYONE)))


def test_draw_score_one_makes_pfsp_pick_the_opponents_the_learner_still_loses_to():
    from redqueen.league.matchmaking import Payoff, pfsp_weights

    for draw_score, expected_share in ((0.5, 0.5), (1.0, 1.0)):
        payoff = Payoff(decay=1.0, draw_score=draw_score)
        payoff.add_counts("learner", "perfect", wins=0, draws=95, losses=5)  # draws, loses sometimes
        payoff.add_counts("learner", "snapshot", wins=0, draws=100, losses=0)  # only draws
        weights = pfsp_weights(payoff.win_rates("learner", ["perfect", "snapshot"]), "hard")
        assert weights[0] > 0.5 - 1e-9
        assert weights[0] == pytest.approx(expected_share, abs=0.03)
    with pytest.raises(ValueError, match="draw_score"):
        Payoff(draw_score=1.5)


def test_a_learners_pool_limits_whom_pfsp_and_uniform_draw():
    import numpy as np

    from redqueen.league.matchmaking import LearnerInfo, Matchmaker, Payoff, sample_counts

    payoff = Payoff()
    for pool, expected in [
        (("all",), {"rand", "mm", "p@0", "p@10"}),
        (("fixed",), {"rand", "mm"}),
        (("snapshots",), {"p@0", "p@10"}),
        (("mm", "p@10"), {"mm", "p@10"}),
    ]:
        maker = Matchmaker([LearnerInfo("p", "main", ["p@0", "p@10"], pool)], ["rand", "mm"], payoff)
        assert set(maker.historical("p")) == expected
        for method in ("uniform", "pfsp"):
            drawn = sample_counts(maker, "p", np.random.default_rng(0), 400, method)
            assert set(drawn) == expected


def test_every_lookup_of_an_unknown_learner_names_it():
    import numpy as np

    from redqueen.league.matchmaking import LearnerInfo, Matchmaker, Payoff

    maker = Matchmaker([LearnerInfo("p", "main", ["p@0"])], ["rand"], Payoff())
    for call in (
        lambda: maker.rate("q", "rand"),
        lambda: maker.historical("q"),
        lambda: maker.resets_after_snapshot("q", np.random.default_rng(0)),
        lambda: maker.get_match("q", np.random.default_rng(0)),
    ):
        with pytest.raises(ValueError, match="unknown learner 'q'"):
            call()


def test_payoff_state_round_trips():
    payoff = Payoff(decay=0.9, draw_score=0.5)
    for score in (1, 0.5, 0, 1):
        payoff.update("learner", "snap-1", score)
    payoff.add_counts("learner", "random", 3, 1, 0)
    copy = Payoff(decay=0.9, draw_score=0.5)
    copy.load_state_dict(payoff.state_dict())
    for home, away in (("learner", "snap-1"), ("snap-1", "learner"), ("learner", "random")):
        assert copy.win_rate(home, away) == payoff.win_rate(home, away)
        assert copy.games(home, away) == payoff.games(home, away)
    assert copy.win_rate("learner", "snap-1") != 0.5
