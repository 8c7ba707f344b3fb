"""Deal or No Deal (redqueen.envs.negotiation.deal_or_no_deal): scenarios, rules, the lambda dial, the
two endings, the text parser and the text env."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redqueen.envs.negotiation.deal_or_no_deal import (
    ACCEPT_ACTION,
    COUNT_VECTORS,
    NUM_ACTIONS,
    PASS_ACTION,
    DealOrNoDeal,
    DealOrNoDealState,
    Scenario,
    decode_observation,
    generate_scenario,
    proposal_action,
    proposal_vector,
    value_pairs,
)
from redqueen.envs.text import TextEnv
from redqueen.game import IllegalAction
from redqueen.registry import make_game

PLURALS = ("books", "hats", "balls")
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# a scenario written by hand: 2 books, 1 hat, 3 balls
FIXED = Scenario((2, 1, 3), ((2, 3, 1), (0, 4, 2)))


def play_random(state: DealOrNoDealState, rng: np.random.Generator) -> int:
    """Random legal moves to the end; returns the number of moves played."""
    moves = 0
    while not state.is_terminal():
        legal = state.legal_actions()
        assert legal, "a live state always has a legal move"
        state.apply_action(int(rng.choice(legal)))
        moves += 1
        assert moves <= state.game.max_game_length
    return moves


# ---- scenarios ---------------------------------------------------------------------------------------------
def test_count_vectors_are_exactly_the_allowed_ones():
    expected = {
        c
        for c in itertools.product(range(0, 6), repeat=3)
        if all(1 <= x <= 4 for x in c) and 5 <= sum(c) <= 7
    }
    assert set(COUNT_VECTORS) == expected and len(COUNT_VECTORS) == len(expected)
    for counts in COUNT_VECTORS:
        assert value_pairs(counts), f"no value pair for counts {counts}"


def test_value_pairs_match_a_brute_force_enumeration():
    counts = (1, 2, 3)
    vectors = [v for v in itertools.product(range(11), repeat=3) if np.dot(counts, v) == 10]
    pairs = {(v, w) for v in vectors for w in vectors if all(v[k] > 0 or w[k] > 0 for k in range(3))}
    assert set(value_pairs(counts)) == pairs


@FAST
@given(seed=st.integers(0, 2**63 - 1))
def test_generated_scenarios_meet_the_constraints(seed):
    s = generate_scenario(seed)
    assert len(s.counts) == 3 and all(1 <= c <= 4 for c in s.counts) and 5 <= sum(s.counts) <= 7
    for values in s.values:
        assert all(isinstance(v, int) and 0 <= v <= 10 for v in values)
        assert sum(c * v for c, v in zip(s.counts, values, strict=True)) == 10
    assert all(s.values[0][k] > 0 or s.values[1][k] > 0 for k in range(3))
    assert generate_scenario(seed) == s  # the seed fixes it


def test_scenarios_vary_with_the_seed_and_cover_the_count_vectors():
    seen = {generate_scenario(seed).counts for seed in range(2000)}
    assert seen == set(COUNT_VECTORS)


@pytest.mark.parametrize(
    ("counts", "values", "match"),
    [
        ((5, 1, 1), ((1, 1, 1), (1, 1, 1)), "1-4 of each"),
        ((1, 1, 1), ((5, 3, 2), (5, 3, 2)), "5-7 in all"),
        ((2, 2, 2), ((1, 1, 1), (2, 2, 1)), "worth 10"),
        ((2, 2, 2), ((5, 0, 0), (5, 0, 0)), "worth 0 to both"),
        ((2, 2, 2), ((11, -1, 0), (1, 2, 2)), "0-10"),
        ((2, 2), ((1, 1), (1, 1)), "3 item counts"),
    ],
)
def test_bad_scenarios_are_named(counts, values, match):
    with pytest.raises(ValueError, match=match):
        Scenario(counts, values)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lambda_": 1.5}, "lambda_"),
        ({"lambda_": "high"}, "lambda_"),
        ({"variant": "openspiel"}, "variant"),
        ({"max_turns": 1}, "max_turns"),
        ({"max_turns": 2.5}, "max_turns"),
        ({"scenario": {"counts": (2, 2, 2)}}, "scenario"),
    ],
)
def test_bad_game_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DealOrNoDeal(**kwargs)


def test_same_seed_same_game_across_the_registry():
    a = make_game("negotiation").new_initial_state(7)
    b = DealOrNoDeal().new_initial_state(np.random.default_rng(7))
    assert a.scenario == b.scenario == generate_scenario(7)


# ---- the rules ---------------------------------------------------------------------------------------------
@FAST
@given(
    seed=st.integers(0, 2**32),
    lam=st.floats(-1.0, 1.0, allow_nan=False),
    variant=st.sampled_from(["accept", "fair"]),
    max_turns=st.integers(2, 16),
)
def test_returns_follow_the_lambda_formula(seed, lam, variant, max_turns):
    game = DealOrNoDeal(lambda_=lam, variant=variant, max_turns=max_turns)
    state = game.new_initial_state(seed)
    play_random(state, np.random.default_rng(seed))
    s = state.scenario
    if state.deal is None:
        own = np.zeros(2)
    else:
        got = state.deal
        assert tuple(a + b for a, b in zip(*got, strict=True)) == s.counts  # the split uses every item
        own = np.array([np.dot(got[p], s.values[p]) for p in (0, 1)], dtype=float)
    ret = state.returns()
    assert ret[0] == pytest.approx(own[0] + lam * own[1])
    assert ret[1] == pytest.approx(own[1] + lam * own[0])
    assert game.min_return - 1e-9 <= ret.min() and ret.max() <= game.max_return + 1e-9


@FAST
@given(seed=st.integers(0, 2**32), max_turns=st.integers(2, 30), variant=st.sampled_from(["accept", "fair"]))
def test_the_game_always_ends_within_max_turns(seed, max_turns, variant):
    state = DealOrNoDeal(max_turns=max_turns, variant=variant).new_initial_state(seed)
    moves = play_random(state, np.random.default_rng(seed + 1))
    talk = moves - (2 if variant == "fair" else 0)
    assert state.is_terminal() and 1 <= talk <= max_turns
    assert len(state.messages) == talk


def test_an_accept_ends_the_game_with_the_live_deal():
    state = DealOrNoDeal(scenario=FIXED, lambda_=0.5).new_initial_state(0)
    state.apply_action(proposal_action((2, 0, 1)))  # player 0 takes 2 books and a ball
    assert ACCEPT_ACTION in state.legal_actions(1)
    state.apply_action(ACCEPT_ACTION)
    assert state.is_terminal() and state.deal == ((2, 0, 1), (0, 1, 2))
    assert state.points.tolist() == [2 * 2 + 1, 4 + 2 * 2]
    assert state.returns().tolist() == [5 + 0.5 * 8, 8 + 0.5 * 5]


def test_a_player_cannot_accept_its_own_proposal():
    state = DealOrNoDeal(scenario=FIXED).new_initial_state(0)
    state.apply_action(proposal_action((1, 1, 1)))
    state.apply_action(PASS_ACTION)  # player 1 only talks; player 0's proposal stays live
    assert ACCEPT_ACTION not in state.legal_actions(0)
    with pytest.raises(IllegalAction, match="your own"):
        state.apply_action(ACCEPT_ACTION)
    with pytest.raises(IllegalAction, match="your own"):
        state.parse_action(0, "Deal! [Accept]")
    state.apply_action(PASS_ACTION)
    state.apply_action(ACCEPT_ACTION)  # player 1 still can
    assert state.deal == ((1, 1, 1), (1, 0, 2))


def test_nothing_to_accept_at_the_start_and_a_new_proposal_replaces_the_old():
    state = DealOrNoDeal(scenario=FIXED).new_initial_state(0)
    assert ACCEPT_ACTION not in state.legal_actions()
    with pytest.raises(IllegalAction, match="no proposal to accept"):
        state.apply_action(ACCEPT_ACTION)
    state.apply_action(proposal_action((2, 1, 0)))
    state.apply_action(proposal_action((0, 1, 3)))  # player 1's counter-proposal
    state.apply_action(ACCEPT_ACTION)
    assert state.deal == ((2, 0, 0), (0, 1, 3))


def test_no_accept_within_the_limit_is_no_deal():
    state = DealOrNoDeal(scenario=FIXED, max_turns=4).new_initial_state(0)
    for _ in range(4):
        state.apply_action(proposal_action((2, 1, 3)))
    assert state.is_terminal() and state.deal is None and state.returns().tolist() == [0.0, 0.0]


def test_proposals_outside_the_pool_are_masked_and_refused():
    state = DealOrNoDeal(scenario=FIXED).new_initial_state(0)
    mask = state.action_mask(0)
    assert mask.shape == (NUM_ACTIONS,) and mask.dtype == np.int8
    legal = set(np.flatnonzero(mask).tolist())
    assert legal == {proposal_action(t) for t in FIXED.allocations()} | {PASS_ACTION}
    assert len(legal) == 3 * 2 * 4 + 1
    assert not state.action_mask(1).any()
    with pytest.raises(IllegalAction, match=r"books=3 is more than the 2 books"):
        state.apply_action(proposal_action((3, 0, 0)))
    with pytest.raises(IllegalAction, match="not a Deal or No Deal action"):
        state.apply_action(NUM_ACTIONS)


# ---- the fair (FAIR-style) variant -------------------------------------------------------------------------
def fair_state(max_turns: int = 4) -> DealOrNoDealState:
    return DealOrNoDeal(scenario=FIXED, variant="fair", max_turns=max_turns, lambda_=-1.0).new_initial_state(
        0
    )


def test_fair_variant_pays_complementary_selections_only():
    state = fair_state()
    state.apply_action(proposal_action((2, 0, 0)))
    state.apply_action(ACCEPT_ACTION)  # ends the talk
    assert state.phase == "select" and not state.is_terminal() and state.current_player == 0
    assert ACCEPT_ACTION not in state.legal_actions() and PASS_ACTION not in state.legal_actions()
    state.apply_action(proposal_action((2, 0, 0)))
    state.apply_action(proposal_action((0, 1, 3)))
    assert state.deal == ((2, 0, 0), (0, 1, 3))
    assert state.returns().tolist() == [4 - 10, 10 - 4]  # lambda_ = -1: zero-sum

    greedy = fair_state()
    greedy.apply_action(proposal_action((2, 0, 0)))
    greedy.apply_action(ACCEPT_ACTION)
    greedy.apply_action(proposal_action((2, 1, 0)))  # takes more than was agreed
    greedy.apply_action(proposal_action((0, 1, 3)))
    assert greedy.is_terminal() and greedy.deal is None and greedy.returns().tolist() == [0.0, 0.0]


def test_fair_variant_selects_after_the_message_limit_too():
    state = fair_state(max_turns=2)
    state.apply_action(PASS_ACTION)
    state.apply_action(PASS_ACTION)
    assert state.phase == "select" and not state.accepted
    state.apply_action(proposal_action((1, 1, 1)))
    state.apply_action(proposal_action((1, 0, 2)))
    assert state.deal == ((1, 1, 1), (1, 0, 2))


def test_fair_variant_selections_are_hidden_until_both_are_in():
    views = []
    for first_choice in [(2, 1, 3), (0, 0, 0)]:
        state = fair_state(max_turns=2)
        state.apply_action(PASS_ACTION)
        state.apply_action(PASS_ACTION)
        state.apply_action(proposal_action(first_choice))
        views.append((state.observation_tensor(1), state.observation_text(1), state.legal_actions(1)))
    assert np.array_equal(views[0][0], views[1][0])
    assert views[0][1] == views[1][1] and views[0][2] == views[1][2]


def test_fair_variant_text_selection_and_talk_rules():
    state = fair_state(max_turns=2)
    with pytest.raises(IllegalAction, match="come after the talk"):
        state.parse_action(0, "[Select: books=1 hats=1 balls=1]")
    state.apply_action(PASS_ACTION)
    state.apply_action(PASS_ACTION)
    with pytest.raises(IllegalAction, match="talk is over"):
        state.parse_action(0, "I think we should split evenly.")
    action = state.parse_action(0, "[Select: books=1 hats=1 balls=1]")
    assert action == proposal_action((1, 1, 1))
    state.apply_action(
        state.parse_action(0, "My pick: [Propose: books=1 hats=0 balls=1]")
    )  # read as a selection
    assert (
        state.selections == [(1, 0, 1), None] and len(state.messages) == 2
    )  # selections are not in the chat


# ---- the text view and parser ------------------------------------------------------------------------------
def test_the_observation_text_tells_the_rules_values_and_chat():
    state = DealOrNoDeal(scenario=FIXED, lambda_=1.0).new_initial_state(0)
    text = state.observation_text(0)
    assert "2 books, 1 hat and 3 balls" in text and "book 2, hat 3, ball 1" in text
    assert "fully cooperative" in text and "[Propose: books=B hats=H balls=L]" in text
    state.apply_action(state.parse_action(0, "Hi! I'd love the books. [Propose: books=2 hats=0 balls=0]"))
    seen = state.observation_text(1)
    assert "Player 0: Hi! I'd love the books. [Propose: books=2 hats=0 balls=0]" in seen
    assert "you would get 0 books, 1 hat and 3 balls, worth 10 points to you" in seen
    assert "book 0, hat 4, ball 2" in seen and "book 2, hat 3" not in seen  # own values only


@pytest.mark.parametrize(
    ("reply", "take"),
    [
        ("[Propose: books=1 hats=0 balls=2]", (1, 0, 2)),
        ("ok [propose: 1 book, 0 hats and 2 balls]", (1, 0, 2)),
        ("Let me think... \\boxed{Propose: books=2 hats=1 balls=3}", (2, 1, 3)),
        ("[Proposal: balls: 3, hats: 0, books: 0] - you get the rest", (0, 0, 3)),
        ("[Offer: I take books=0 hats=1 balls=0]", (0, 1, 0)),
        ("[books=2 hats=0 balls=1]", (2, 0, 1)),
        (
            "I propose this [Propose: books=1 hats=1 balls=1] and again [Propose: books=1 hats=1 balls=1]",
            (1, 1, 1),
        ),
    ],
)
def test_proposals_in_many_spellings(reply, take):
    state = DealOrNoDeal(scenario=FIXED).new_initial_state(0)
    action = state.parse_action(0, reply)
    state.apply_action(action)
    assert state.live == (0, take)
    assert state.chat_line(state.messages[-1]) == " ".join(reply.split())


def test_a_bare_tag_is_the_discrete_action_and_talk_gets_a_message_id():
    state = DealOrNoDeal(scenario=FIXED).new_initial_state(0)
    assert state.parse_action(0, "[Propose: books=1 hats=0 balls=2]") == proposal_action((1, 0, 2))
    assert state.parse_action(0, "[No proposal]") == PASS_ACTION
    talk = state.parse_action(0, "How about we share?")
    assert talk >= NUM_ACTIONS and state.action_to_text(0, talk) == "How about we share?"
    state.apply_action(talk)
    assert state.live is None and state.current_player == 1
    assert state.messages[0].move == ("pass",)
    with pytest.raises(IllegalAction):
        state.apply_action(talk)  # a message id is good for one move only
    assert state.parse_action(1, "pass") == PASS_ACTION
    with pytest.raises(IllegalAction, match="no proposal to accept"):
        state.parse_action(1, "accept")


@pytest.mark.parametrize(
    ("reply", "named"),
    [
        ("[Propose: books=3 hats=0 balls=0]", r"books=3 is more than the 2 books on the table"),
        ("[Propose: books=0 hats=2 balls=0]", r"hats=2 is more than the 1 hat on the table"),
        ("[Propose: books=1 hats=1]", r"no count for balls"),
        ("[Propose: books=1 hats=1 balls=1 cups=2]", r"'cups' is no item"),
        ("[Propose: books=1.5 hats=0 balls=1]", r"books=1\.5 is not a whole number"),
        ("[Propose: books=-1 hats=0 balls=1]", r"books=-1 is negative"),
        ("[Propose: books=two hats=0 balls=1]", r"could not read 'books=two"),
        ("[Propose: books=1 books=2 hats=0 balls=0]", r"books twice"),
        ("[Propose:]", r"names no items"),
        ("[Accept: books=1 hats=0 balls=1]", r"takes no item counts"),
        ("[Propose: books=1 hats=0 balls=0] then [Accept]", r"2 different moves"),
        ("", r"empty"),
        ("x" * 3000, r"3000 characters"),
    ],
)
def test_malformed_or_illegal_messages_name_the_problem(reply, named):
    state = DealOrNoDeal(scenario=FIXED).new_initial_state(0)
    state.apply_action(proposal_action((1, 1, 1)))
    with pytest.raises(IllegalAction, match=named) as info:
        state.parse_action(1, reply)
    if "Propose" in reply and "Accept" not in reply:
        assert "books=0-2 hats=0-1 balls=0-3" in str(info.value)  # the counts on the table
    assert info.value.legal_moves  # and the moves that are legal now


@FAST
@given(seed=st.integers(0, 2**32), take=st.tuples(*[st.integers(0, 6)] * 3))
def test_any_proposal_text_is_read_or_refused_naming_the_item_counts(seed, take):
    state = DealOrNoDeal().new_initial_state(seed)
    counts = state.scenario.counts
    reply = f"[Propose: books={take[0]} hats={take[1]} balls={take[2]}]"
    if all(t <= c for t, c in zip(take, counts, strict=True)):
        assert state.parse_action(0, reply) == proposal_action(take)
    else:
        with pytest.raises(IllegalAction) as info:
            state.parse_action(0, reply)
        k = next(i for i in range(3) if take[i] > counts[i])
        assert f"{PLURALS[k]}={take[k]} is more than the {counts[k]}" in info.value.reason
        assert f"books 0-{counts[0]}, hats 0-{counts[1]}, balls 0-{counts[2]}" in info.value.reason


@settings(max_examples=150, deadline=None)
@given(
    reply=st.one_of(st.text(max_size=300), st.from_regex(r"\[(Propose|Accept|Select)?[:= a-z0-9,.-]{0,40}\]"))
)
def test_any_reply_is_a_move_or_an_illegal_action(reply):
    state = DealOrNoDeal(scenario=FIXED).new_initial_state(0)
    state.apply_action(proposal_action((1, 1, 1)))
    try:
        action = state.parse_action(1, reply)
    except IllegalAction as err:
        assert err.reason
        return
    state.apply_action(action)
    assert state.is_terminal() or state.current_player == 0


def test_wrong_player_and_finished_game_are_refused():
    state = DealOrNoDeal(scenario=FIXED, max_turns=2).new_initial_state(0)
    with pytest.raises(IllegalAction, match="Player 0's turn"):
        state.parse_action(1, "[No proposal]")
    with pytest.raises(IllegalAction, match="a message is text"):
        state.parse_action(0, 42)  # type: ignore[arg-type]
    state.apply_action(PASS_ACTION)
    state.apply_action(PASS_ACTION)
    with pytest.raises(IllegalAction, match="game is over"):
        state.parse_action(0, "[Accept]")
    with pytest.raises(IllegalAction, match="game is over"):
        state.apply_action(PASS_ACTION)


def test_text_env_plays_a_negotiation_with_talk():
    env = TextEnv("negotiation", invalid="retry", scenario=FIXED, lambda_=0.0)
    text, info = env.reset(seed=0)
    assert info["player"] == 0 and "[Accept]" not in " ".join(info["legal_moves"])
    text, _, _, _, info = env.step("I really want the books. [Propose: books=2 hats=0 balls=0]")
    assert info["player"] == 1 and "I really want the books." in text
    text, _, _, _, info = env.step("[Accept: books=0 hats=1 balls=3]")  # invalid: retried with the reason
    assert info["invalid"] and "takes no item counts" in info["reason"] and info["player"] == 1
    text, rewards, done, _, info = env.step("Fine by me. [Accept]")
    assert done and rewards.tolist() == [4.0, 10.0] and env.invalid_answers.tolist() == [0, 1]
    assert "a deal" in text


# ---- the tensor view ---------------------------------------------------------------------------------------
@FAST
@given(seed=st.integers(0, 2**32), steps=st.integers(0, 12), variant=st.sampled_from(["accept", "fair"]))
def test_observations_fit_the_space_and_decode_back(seed, steps, variant):
    game = DealOrNoDeal(variant=variant, lambda_=-0.5)
    state = game.new_initial_state(seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        if state.is_terminal():
            break
        state.apply_action(int(rng.choice(state.legal_actions())))
    for player in (0, 1):
        obs = state.observation_tensor(player)
        assert game.observation_space(player).contains(obs)
        view = decode_observation(obs)
        assert view.counts == state.scenario.counts and view.values == state.scenario.values[player]
        assert view.lambda_ == pytest.approx(-0.5) and view.over == state.is_terminal()
        assert view.talking == (state.current_player == player and state.phase == "talk")
        assert view.selecting == (state.current_player == player and state.phase == "select")
        if state.live is not None:
            proposer, take = state.live
            assert view.receive == (take if proposer == player else state.scenario.rest(take))
        else:
            assert view.receive is None
        if view.talking:
            assert view.turn == state.turn


def test_clone_is_independent():
    state = DealOrNoDeal(scenario=FIXED).new_initial_state(0)
    state.apply_action(proposal_action((1, 0, 0)))
    twin = state.clone()
    twin.apply_action(ACCEPT_ACTION)
    assert twin.is_terminal() and not state.is_terminal() and state.current_player == 1
    assert state.render() != twin.render() and "deal P0 (1, 0, 0)" in twin.render()
    assert proposal_vector(proposal_action((4, 3, 2))) == (4, 3, 2)
    assert re.search(r"lambda=0", state.render())
