"""Price bargaining (redqueen.envs.negotiation.bargaining): a seller and a buyer with private limits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redqueen.envs.negotiation.bargaining import (
    ACCEPT_ACTION,
    BUYER,
    NUM_ACTIONS,
    PASS_ACTION,
    SELLER,
    PriceBargaining,
    decode_observation,
    price_action,
)
from redqueen.envs.text import TextEnv
from redqueen.game import IllegalAction

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(seed=st.integers(0, 2**32), max_turns=st.integers(2, 20), first=st.sampled_from(["seller", "buyer"]))
def test_random_play_ends_within_max_turns_with_the_surplus_as_returns(seed, max_turns, first):
    game = PriceBargaining(max_turns=max_turns, first=first)
    state = game.new_initial_state(seed)
    s, b = state.limits
    assert 5 <= s <= 20 and s + 1 <= b <= s + 15
    rng = np.random.default_rng(seed)
    moves = 0
    while not state.is_terminal():
        if moves == 0:
            assert state.current_player == (SELLER if first == "seller" else BUYER)
        state.apply_action(int(rng.choice(state.legal_actions())))
        moves += 1
    assert 1 <= moves <= max_turns
    ret = state.returns()
    if state.price is None:
        assert ret.tolist() == [0.0, 0.0]
    else:
        p = state.price / 100
        assert ret.tolist() == pytest.approx([p - s, b - p])
    assert game.min_return <= ret.min() and ret.max() <= game.max_return


def test_a_deal_at_the_accepted_price():
    state = PriceBargaining(limits=(8, 20)).new_initial_state(0)
    state.apply_action(state.parse_action(SELLER, "A fine balloon. [Offer: $18]"))
    state.apply_action(state.parse_action(BUYER, "Too much. [Offer: $12.50]"))
    with pytest.raises(IllegalAction, match="2 different moves"):
        state.parse_action(SELLER, "[Offer: $15] ... [Accept]")
    state.apply_action(state.parse_action(SELLER, "[Offer: $15]"))
    state.apply_action(state.parse_action(BUYER, "Hmm, let me think."))  # talk: the $15 stays live
    with pytest.raises(IllegalAction, match=r"live offer \(\$15\) is your own"):
        state.parse_action(SELLER, "[Accept]")
    state.apply_action(state.parse_action(SELLER, "Still $15."))
    state.apply_action(state.parse_action(BUYER, "OK, deal. [Accept]"))
    assert state.is_terminal() and state.price == 1500 and state.returns().tolist() == [7.0, 5.0]


def test_the_latest_offer_is_the_live_one():
    state = PriceBargaining(limits=(8, 20)).new_initial_state(0)
    state.apply_action(price_action(30))
    state.apply_action(price_action(10))
    state.apply_action(PASS_ACTION)  # the seller talks; the buyer's $10 stays live
    assert ACCEPT_ACTION not in state.legal_actions(BUYER)  # it is the buyer's own offer
    state.apply_action(PASS_ACTION)
    state.apply_action(ACCEPT_ACTION)
    assert state.price == 1000 and state.returns().tolist() == [2.0, 10.0]


@pytest.mark.parametrize(
    ("reply", "named"),
    [
        ("[Offer: $41]", r"outside the prices of this game: offer \$1 to \$40"),
        ("[Offer: $0.50]", r"outside the prices"),
        ("[Offer: $12.345]", r"more than two decimals"),
        ("[Offer: a lot]", r"could not read a price"),
        ("[Offer:]", r"names no price"),
        ("[Accept: $12]", r"takes no price"),
        ("[Accept]", r"no offer to accept"),
    ],
)
def test_bad_offers_name_the_problem(reply, named):
    state = PriceBargaining().new_initial_state(3)
    with pytest.raises(IllegalAction, match=named):
        state.parse_action(SELLER, reply)


@pytest.mark.parametrize(
    ("reply", "cents"),
    [("[Offer: $12]", 1200), ("[offer: 12 dollars]", 1200), ("[Price: $9.99]", 999), ("[$25]", 2500)],
)
def test_prices_in_several_spellings(reply, cents):
    state = PriceBargaining().new_initial_state(3)
    state.apply_action(state.parse_action(SELLER, reply))
    assert state.live == (SELLER, cents)


def test_text_view_keeps_each_limit_private():
    state = PriceBargaining(limits=(8, 23), item="used bike").new_initial_state(0)
    seller, buyer = state.observation_text(SELLER), state.observation_text(BUYER)
    assert "seller (Player 0) of a used bike" in seller and "cost you $8" in seller and "$23" not in seller
    assert "worth $23 to you" in buyer and "$8" not in buyer
    state.apply_action(state.parse_action(SELLER, "Lovely bike! [Offer: $30]"))
    assert "Seller: Lovely bike! [Offer: $30]" in state.observation_text(BUYER)


def test_text_env_game_and_observations_decode():
    env = TextEnv("price_bargaining", limits=(10, 20), max_turns=3)
    env.reset(seed=0)
    env.step("[Offer: $19]")
    env.step("[Offer: $11]")
    _, rewards, done, _, _ = env.step("Fine. [Accept]")
    assert done and rewards.tolist() == [1.0, 9.0]
    state = PriceBargaining(limits=(10, 20)).new_initial_state(0)
    state.apply_action(price_action(25))
    view = decode_observation(state.observation_tensor(BUYER))
    assert view.role == BUYER and view.limit == 20 and view.live == 25 and not view.live_mine
    assert view.their_last == 25 and view.my_last is None and view.to_move and view.turn == 1
    assert state.action_mask(BUYER).sum() == NUM_ACTIONS and not state.action_mask(SELLER).any()


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="first"):
        PriceBargaining(first="both")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limits"):
        PriceBargaining(limits=(0, 50))
    with pytest.raises(ValueError, match="whole number of dollars"):
        price_action(41)
