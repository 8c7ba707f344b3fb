"""Resource trading (redqueen.envs.negotiation.trading): the SimpleNegotiation rules with TextArena's loose
ends fixed (exactly T turns, chat visible to both, no accepting one's own offer, a declined offer is gone)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redqueen.envs.negotiation.trading import (
    ACCEPT_ACTION,
    BASE_VALUES,
    DENY_ACTION,
    NUM_ACTIONS,
    OFFERS,
    PASS_ACTION,
    RESOURCES,
    ResourceTrading,
    ResourceTradingState,
    TradingScenario,
    decode_observation,
    generate_trading_scenario,
    offer_action,
)
from redqueen.envs.text import TextEnv
from redqueen.game import IllegalAction

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WHEAT, WOOD, SHEEP, BRICK, ORE = range(5)
FIXED = TradingScenario(
    ((10, 2, 8, 5, 6), (7, 9, 5, 12, 4)),
    ((5, 12, 14, 22, 36), (6, 8, 17, 28, 33)),
)


def new_state(**kwargs) -> ResourceTradingState:
    return ResourceTrading(scenario=FIXED, **kwargs).new_initial_state(0)


def totals(state: ResourceTradingState) -> list[int]:
    return [a + b for a, b in zip(*state.inventories, strict=True)]


@FAST
@given(seed=st.integers(0, 2**63 - 1))
def test_generated_scenarios_follow_the_rules(seed):
    s = generate_trading_scenario(seed)
    for player in (0, 1):
        assert all(5 <= q <= 25 for q in s.inventories[player])
        for base, value in zip(BASE_VALUES, s.values[player], strict=True):
            assert max(base - int(0.2 * base), 5) <= value <= min(base + int(0.2 * base), 40)
    assert generate_trading_scenario(seed) == s


@FAST
@given(seed=st.integers(0, 2**32), max_turns=st.integers(2, 24), scoring=st.sampled_from(["winner", "gain"]))
def test_random_play_runs_exactly_max_turns_and_conserves_resources(seed, max_turns, scoring):
    state = ResourceTrading(max_turns=max_turns, scoring=scoring).new_initial_state(seed)
    start = totals(state)
    rng = np.random.default_rng(seed)
    moves = 0
    while not state.is_terminal():
        assert state.returns().tolist() == [0.0, 0.0]
        state.apply_action(int(rng.choice(state.legal_actions())))
        moves += 1
        assert totals(state) == start and min(min(inv) for inv in state.inventories) >= 0
    assert moves == max_turns == len(state.messages)
    gains = [state.gain(0), state.gain(1)]
    expected = gains if scoring == "gain" else [np.sign(gains[0] - gains[1]), np.sign(gains[1] - gains[0])]
    assert state.returns().tolist() == expected


def test_exactly_t_messages_each_player_half():
    state = new_state(max_turns=10)
    writers = []
    while not state.is_terminal():
        writers.append(state.current_player)
        state.apply_action(PASS_ACTION)
    assert writers == [0, 1] * 5  # TextArena's SimpleNegotiation-v0 runs 11 steps for "10 turns"


def test_accept_trades_at_once_and_the_gain_is_scored():
    state = new_state(max_turns=4)
    state.apply_action(state.parse_action(0, "Ore for bricks? [Offer: 1 Ore -> 2 Brick]"))
    assert ACCEPT_ACTION in state.legal_actions(1) and DENY_ACTION in state.legal_actions(1)
    state.apply_action(state.parse_action(1, "Deal. [Accept]"))
    assert state.inventories == [[10, 2, 8, 7, 5], [7, 9, 5, 10, 5]]
    assert state.gain(0) == 2 * 22 - 36 and state.gain(1) == 33 - 2 * 28
    state.apply_action(PASS_ACTION)
    state.apply_action(PASS_ACTION)
    assert state.returns().tolist() == [1.0, -1.0]  # player 0 gained more
    assert len(state.trades) == 1


def test_a_player_cannot_accept_its_own_offer_and_a_declined_offer_is_gone():
    state = new_state()
    with pytest.raises(IllegalAction, match="no offer"):
        state.parse_action(0, "[Accept]")
    state.apply_action(offer_action(WHEAT, 2, WOOD, 1))
    state.apply_action(state.parse_action(1, "No thanks. [Deny]"))
    assert state.live is None and "declined" in state.outcomes[-1]
    assert ACCEPT_ACTION not in state.legal_actions(0)  # nothing left to accept, least of all its own
    with pytest.raises(IllegalAction, match="no offer from Player 1"):
        state.apply_action(ACCEPT_ACTION)
    state.apply_action(offer_action(WHEAT, 1, WOOD, 1))
    state.apply_action(state.parse_action(1, "Let me think about it."))  # talk declines too
    assert state.live is None and state.trades == []


def test_chat_is_visible_to_both_players():
    state = new_state()
    state.apply_action(state.parse_action(0, "Hello, I have lots of wheat. [Offer: 3 Wheat -> 1 Sheep]"))
    for player in (0, 1):
        assert "Player 0: Hello, I have lots of wheat. [Offer: 3 Wheat -> 1 Sheep]" in state.observation_text(
            player
        )
    assert "you give 1 Sheep and get 3 Wheat" in state.observation_text(1)
    assert "Wheat 7 x 6" in state.observation_text(1) and "Wheat 10 x 5" not in state.observation_text(1)


def test_multi_resource_text_offers_are_played_through_message_ids():
    state = new_state()
    action = state.parse_action(0, "[Offer: 2 Wheat, 1 Sheep -> 1 Brick, 1 Wood]")
    assert action >= NUM_ACTIONS
    state.apply_action(action)
    assert state.live == (0, (2, 0, 1, 0, 0), (0, 1, 0, 1, 0))
    state.apply_action(ACCEPT_ACTION)
    assert state.inventories[0] == [8, 3, 7, 6, 6] and state.inventories[1] == [9, 8, 6, 11, 4]


@pytest.mark.parametrize(
    ("reply", "named"),
    [
        ("[Offer: 3 Wood -> 1 Ore]", r"you hold 2 Wood, so you cannot offer 3 Wood"),
        ("[Offer: 1 Gold -> 1 Ore]", r"'gold' is no resource"),
        ("[Offer: 1 Wheat -> 1 Wheat]", r"Wheat is on both sides"),
        ("[Offer: 1 Wheat]", r"one '->'"),
        ("[Offer: 1 Wheat, 2 Wheat -> 1 Ore]", r"Wheat is named twice"),
        ("[Offer: 0 Wheat -> 1 Ore]", r"positive whole number"),
        ("[Offer: 1.5 Wheat -> 1 Ore]", r"positive whole number"),
        ("[Offer: lots of Wheat -> 1 Ore]", r"names no resource"),
        ("[Deny]", r"no offer from Player 1 to deny"),
        ("[Offer: 1 Wheat -> 1 Ore] [Accept]", r"2 different moves"),
    ],
)
def test_bad_offers_name_the_problem(reply, named):
    state = new_state()
    with pytest.raises(IllegalAction, match=named) as info:
        state.parse_action(0, reply)
    assert info.value.legal_moves


def test_accepting_needs_the_goods_asked_for():
    state = new_state()
    state.apply_action(state.parse_action(0, "[Offer: 1 Wheat -> 5 Ore]"))  # player 1 holds 4 Ore
    assert ACCEPT_ACTION not in state.legal_actions(1) and DENY_ACTION in state.legal_actions(1)
    with pytest.raises(IllegalAction, match="asks you for 5 Ore but you hold 4 Ore"):
        state.parse_action(1, "[Accept]")


def test_offers_the_writer_cannot_pay_are_masked():
    state = new_state()
    mask = state.action_mask(0)
    for action, (give, q_give, _, _) in enumerate(OFFERS):
        assert mask[action] == (FIXED.inventories[0][give] >= q_give)
    assert mask[PASS_ACTION] == 1 and mask[ACCEPT_ACTION] == 0 and mask[DENY_ACTION] == 0
    with pytest.raises(IllegalAction, match="you hold 2 Wood"):
        state.apply_action(offer_action(WOOD, 3, ORE, 1))
    with pytest.raises(ValueError, match="no discrete offer"):
        offer_action(WOOD, 4, ORE, 1)


def test_text_env_plays_a_trade():
    env = TextEnv("resource_trading", scenario=FIXED, scoring="gain", max_turns=2)
    env.reset(seed=0)
    env.step("I need bricks. [Offer: 1 Ore -> 2 Brick]")
    text, rewards, done, _, info = env.step("[accept]")
    assert done and rewards.tolist() == [8.0, -23.0] and info["game_returns"].tolist() == [8.0, -23.0]
    assert "trade done" in text


@FAST
@given(seed=st.integers(0, 2**32), steps=st.integers(0, 9))
def test_observations_fit_the_space_and_decode_back(seed, steps):
    game = ResourceTrading()
    state = game.new_initial_state(seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        state.apply_action(int(rng.choice(state.legal_actions())))
    for player in (0, 1):
        obs = state.observation_tensor(player)
        assert game.observation_space(player).contains(obs)
        view = decode_observation(obs)
        assert list(view.holdings) == state.inventories[player]
        assert view.values == state.scenario.values[player]
        assert view.to_move == (state.current_player == player)
        if state.live is not None and state.live[0] != player:
            assert view.offer_gets == state.live[1] and view.offer_gives == state.live[2]
        assert np.array_equal(
            state.action_mask(player), np.isin(np.arange(NUM_ACTIONS), state.legal_actions(player))
        )


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="scoring"):
        ResourceTrading(scoring="points")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_turns"):
        ResourceTrading(max_turns=0)
    with pytest.raises(ValueError, match="5 resources"):
        TradingScenario(((1, 2), (3, 4)), ((1, 1), (1, 1)))
    assert RESOURCES == ("Wheat", "Wood", "Sheep", "Brick", "Ore")
