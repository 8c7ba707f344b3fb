"""Scripted negotiators, the evaluation helpers (agreement, Pareto-optimality, joint value), the league's
spec path and the SB3 smoke training of each game's discrete view."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest

import redqueen
from redqueen.envs.negotiation import Conceder, FairSplitter, GreedyProposer
from redqueen.envs.negotiation.agents import scripted_agent
from redqueen.envs.negotiation.bargaining import PriceBargaining
from redqueen.envs.negotiation.deal_or_no_deal import (
    ACCEPT_ACTION,
    DealOrNoDeal,
    Scenario,
    generate_scenario,
    proposal_action,
)
from redqueen.envs.negotiation.evaluation import (
    agreement_rate,
    evaluate,
    is_pareto_optimal,
    joint_value,
    mean_return,
    outcome,
    pareto_frontier,
    summarize,
)
from redqueen.envs.negotiation.trading import ResourceTrading, TradingScenario
from redqueen.game import agent_observation
from redqueen.league.specs import build_agent, normalize_spec

AGENTS = {"greedy": GreedyProposer, "fair": FairSplitter, "conceder": Conceder}
GAMES = ("negotiation", "resource_trading", "price_bargaining")


# ---- deal rates --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def deal_rates() -> dict[tuple[str, str, str], float]:
    """Agreement rate of every pair of scripted agents in every game, 60 games each, seats swapped."""
    rates = {}
    for game, (a, b) in itertools.product(GAMES, itertools.combinations_with_replacement(AGENTS, 2)):
        report = evaluate(game, [AGENTS[a](), AGENTS[b]()], n_games=60, seed=1)
        rates[(game, a, b)] = report.agreement_rate
    width = max(len(g) for g in GAMES)
    print("\nscripted agents' deal rates (60 games each):")
    for (game, a, b), rate in rates.items():
        print(f"  {game:<{width}}  {a:>8} vs {b:<8}  {rate:.0%}")
    return rates


def test_scripted_agents_reach_deals_against_each_other(deal_rates):
    # Deal or No Deal: every pairing finds a deal in most games (each accepts >= 5 of 10 points at the
    # latest near the end, and every item is worth something to one of the two)
    for a, b in itertools.combinations_with_replacement(AGENTS, 2):
        assert deal_rates[("negotiation", a, b)] >= 0.8, (a, b)
    # bargaining: a price both can live with always exists, and conceders reach their limits by the end
    assert deal_rates[("price_bargaining", "conceder", "conceder")] >= 0.85
    assert deal_rates[("price_bargaining", "fair", "conceder")] >= 0.85
    # trading: the fair trader offers gains for both at base values, so fair pairs trade most games
    assert deal_rates[("resource_trading", "fair", "fair")] >= 0.5
    # the hard bargainers deal less than the accommodating ones
    assert (
        deal_rates[("price_bargaining", "greedy", "greedy")]
        < deal_rates[("price_bargaining", "conceder", "conceder")]
    )
    assert (
        deal_rates[("resource_trading", "greedy", "greedy")]
        < deal_rates[("resource_trading", "fair", "fair")]
    )


def test_agents_are_deterministic_and_reject_other_games():
    game = DealOrNoDeal()
    state = game.new_initial_state(5)
    obs = agent_observation(state, 0)
    for cls in AGENTS.values():
        assert cls(seed=1).act(obs) == cls(seed=2).act(obs)
    ttt = redqueen.make_game("tictactoe").new_initial_state(0)
    with pytest.raises(ValueError, match="plays negotiation, resource_trading, price_bargaining"):
        FairSplitter().act(agent_observation(ttt, 0))
    with pytest.raises(ValueError, match="unknown negotiation agent"):
        scripted_agent("stubborn")
    assert isinstance(scripted_agent("greedy", accept_at=9), GreedyProposer)


# ---- behaviour by the rules the docstrings promise ---------------------------------------------------------
FIXED = Scenario((2, 1, 3), ((2, 3, 1), (0, 4, 2)))


def test_fair_splitter_accepts_half_and_greedy_holds_out_until_its_last_chance():
    for take, accepts in [((2, 0, 0), True), ((0, 1, 3), False)]:  # what player 0 proposes to take
        state = DealOrNoDeal(scenario=FIXED).new_initial_state(0)
        state.apply_action(proposal_action(take))
        obs = agent_observation(state, 1)
        points = FIXED.points(1, FIXED.rest(take))
        assert (FairSplitter().act(obs) == ACCEPT_ACTION) == (points >= 5) == accepts
        assert (GreedyProposer().act(obs) == ACCEPT_ACTION) == (points >= 7)
    state = DealOrNoDeal(scenario=FIXED, max_turns=4).new_initial_state(0)
    state.apply_action(proposal_action((2, 1, 1)))  # leaves player 1 2 balls: 4 points
    assert GreedyProposer().act(agent_observation(state, 1)) != ACCEPT_ACTION  # 3 messages left
    state.apply_action(proposal_action((0, 1, 3)))
    state.apply_action(proposal_action((2, 1, 1)))
    assert GreedyProposer().act(agent_observation(state, 1)) == ACCEPT_ACTION  # its last message


def test_greedy_proposes_its_best_split_leaving_the_partner_something():
    state = DealOrNoDeal(scenario=FIXED).new_initial_state(0)
    action = GreedyProposer().act(agent_observation(state, 0))
    best = max(
        (t for t in FIXED.allocations() if sum(FIXED.rest(t)) >= 1),
        key=lambda t: (FIXED.points(0, t), sum(FIXED.rest(t))),
    )
    assert action == proposal_action(best) and FIXED.points(0, best) == 9


def test_conceder_lowers_its_price_as_the_talk_runs_out():
    game = PriceBargaining(limits=(10, 30), max_turns=10)
    state = game.new_initial_state(0)
    asks = []
    while not state.is_terminal():
        obs = agent_observation(state, state.current_player)
        action = Conceder().act(obs) if state.current_player == 0 else 41  # the buyer only talks
        if state.current_player == 0:
            asks.append(action + 1)
        state.apply_action(action)
    assert asks[0] == 40 and all(a > b for a, b in itertools.pairwise(asks)) and 10 <= asks[-1] < 15


# ---- evaluation helpers ------------------------------------------------------------------------------------
def test_deal_pareto_frontier_matches_a_brute_force_check():
    for seed in range(30):
        s = generate_scenario(seed)
        pairs = [(s.points(0, t), s.points(1, s.rest(t))) for t in s.allocations()]
        expected = {
            p
            for p in pairs
            if not any(q[0] >= p[0] and q[1] >= p[1] and (q[0] > p[0] or q[1] > p[1]) for q in pairs)
        }
        assert set(pareto_frontier(s)) == expected


def test_outcomes_of_deal_or_no_deal():
    state = DealOrNoDeal(scenario=FIXED, lambda_=-1.0).new_initial_state(0)
    state.apply_action(proposal_action((2, 0, 0)))  # player 0: 4 points, player 1: 10 points
    state.apply_action(ACCEPT_ACTION)
    out = outcome(state)
    assert out.agreed and out.points == (4.0, 10.0) and out.returns == (-6.0, 6.0)
    assert joint_value(state) == 14.0
    # player 1 has all it can get (10) and player 0 everything player 1 does not value: Pareto-optimal
    assert out.pareto_optimal and is_pareto_optimal(state)
    lopsided = DealOrNoDeal(scenario=FIXED).new_initial_state(0)
    lopsided.apply_action(proposal_action((0, 1, 0)))  # player 0 takes the hat (3), player 1 gets 0 + 6
    lopsided.apply_action(ACCEPT_ACTION)
    assert outcome(lopsided).points == (3.0, 6.0) and not is_pareto_optimal(lopsided)  # (4, 10) beats it
    nothing = DealOrNoDeal(scenario=FIXED, max_turns=2).new_initial_state(0)
    nothing.apply_action(126)
    nothing.apply_action(126)
    assert not outcome(nothing).agreed and not outcome(nothing).pareto_optimal  # no deal wastes value


def test_trading_pareto_check_matches_a_brute_force_search():
    rng = np.random.default_rng(0)
    for _ in range(25):
        inv = rng.integers(0, 3, size=(2, 5))
        vals = rng.integers(5, 41, size=(2, 5))
        scenario = TradingScenario((tuple(inv[0]), tuple(inv[1])), (tuple(vals[0]), tuple(vals[1])))
        state = ResourceTrading(scenario=scenario, max_turns=2).new_initial_state(0)
        state.apply_action(182)
        state.apply_action(182)
        totals = inv.sum(axis=0)
        x = inv[0]
        u0, u1 = vals[0] @ x, vals[1] @ (totals - x)
        dominated = False
        for y in itertools.product(*[range(t + 1) for t in totals]):
            y = np.array(y)
            a, b = vals[0] @ y, vals[1] @ (totals - y)
            if a >= u0 and b >= u1 and (a > u0 or b > u1):
                dominated = True
                break
        assert outcome(state).pareto_optimal == (not dominated)
        best = (totals * vals.max(axis=0)).sum() - (u0 + u1)
        assert outcome(state).best_joint == best


def test_bargaining_outcomes_and_summaries():
    deal = PriceBargaining(limits=(10, 20)).new_initial_state(0)
    deal.apply_action(14)  # $15
    deal.apply_action(40)  # accepted
    none = PriceBargaining(limits=(10, 20), max_turns=2).new_initial_state(0)
    none.apply_action(41)
    none.apply_action(41)
    a, b = outcome(deal), outcome(none)
    assert a.agreed and a.points == (5.0, 5.0) and a.pareto_optimal and a.best_joint == 10
    assert not b.agreed and not b.pareto_optimal
    report = summarize([deal, none, deal])
    assert report.agreement_rate == pytest.approx(2 / 3) == agreement_rate([a, b, a])
    assert report.pareto_rate == pytest.approx(2 / 3) and report.pareto_rate_of_deals == 1.0
    assert report.mean_joint == pytest.approx(20 / 3) and report.joint_efficiency == pytest.approx(2 / 3)
    assert report.mean_points.tolist() == pytest.approx([10 / 3, 10 / 3])
    swapped = summarize([deal, deal], seatings=np.array([[0, 1], [1, 0]]), names=["x", "y"])
    assert swapped.mean_points.tolist() == [5.0, 5.0] and "x 5.00 pts" in swapped.summary()
    with pytest.raises(ValueError, match="not over"):
        outcome(PriceBargaining().new_initial_state(0))


def test_evaluate_reports_per_agent_over_swapped_seats():
    report = evaluate("price_bargaining", [GreedyProposer(), Conceder()], n_games=20, seed=3)
    rows = report.outcomes
    assert report.n_games == 20 and report.names == ["greedy", "conceder"]
    assert report.agreement_rate == np.mean([o.agreed for o in rows])
    # with seats swapped each agent is seller in half the games; its mean points are over both roles
    assert report.mean_points.sum() == pytest.approx(np.mean([o.joint for o in rows]))
    assert set(report.to_dict()) >= {"agreement_rate", "pareto_rate", "mean_points", "joint_efficiency"}


# ---- the match runner and the league -----------------------------------------------------------------------
def test_scripted_agents_join_a_league_by_spec():
    game = redqueen.make_game("negotiation")
    spec = normalize_spec("redqueen.envs.negotiation.agents:GreedyProposer", {"accept_at": 8})
    agent = build_agent(spec, game, name="hard", seed=3)
    assert isinstance(agent, GreedyProposer) and agent.accept_at == 8 and agent.name == "hard"
    result = redqueen.play("negotiation", [agent, FairSplitter()], n_games=10, seed=0, swap_seats=True)
    assert result.invalid_answers.tolist() == [0, 0] and (result.lengths <= 10).all()


def test_a_text_agent_and_a_scripted_agent_at_one_table():
    class Parrot(redqueen.agents.Agent):
        """Accepts when it can, else writes a proposal in words."""

        name, view = "parrot", "text"

        def act(self, observation):
            if "[Accept]" in observation["legal_moves"]:
                return "That works for me. [Accept]"
            return "I'd like a fair share. [Propose: books=1 hats=0 balls=1]"

    result = redqueen.play(
        "negotiation", [Parrot(), FairSplitter()], n_games=6, seed=2, scenario=FIXED, transcript=True
    )
    assert result.invalid_answers.tolist() == [0, 0]
    moves = [t["move"] for game in result.transcripts for t in game if t["agent"] == "parrot"]
    assert "I'd like a fair share. [Propose: books=1 hats=0 balls=1]" in moves


# ---- SB3: each game's discrete view trains -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("env_id", "margin"),
    [
        ("redqueen/Negotiation-v0", 1.0),  # points
        ("redqueen/ResourceTrading-v0", 0.5),  # wins - losses per game
        ("redqueen/PriceBargaining-v0", 2.0),  # dollars
    ],
)
def test_maskable_ppo_learns_to_beat_random_play(env_id, margin):
    sb3_contrib = pytest.importorskip("sb3_contrib")
    import torch

    torch.set_num_threads(1)
    env = gym.make(env_id, seat="alternate")  # against the default scripted opponent
    model = sb3_contrib.MaskablePPO(
        "MlpPolicy",
        env,
        n_steps=256,
        batch_size=64,
        n_epochs=4,
        learning_rate=1e-3,
        ent_coef=0.01,
        policy_kwargs={"net_arch": [64, 64]},
        seed=0,
    )
    initial = mean_return(env_id, model, 100)
    model.learn(2560)
    trained = mean_return(env_id, model, 100)
    random_play = mean_return(env_id, None, 100)
    print(f"\n{env_id}: random {random_play:+.3f}, initial policy {initial:+.3f}, trained {trained:+.3f}")
    assert trained >= random_play + margin and trained > initial
