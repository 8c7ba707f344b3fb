"""MinimaxAgent: perfect TicTacToe play."""

from __future__ import annotations

import numpy as np
import pytest

from redqueen import make_game, play
from redqueen.agents import MinimaxAgent, RandomAgent, make_agent
from redqueen.agents import minimax as mm
from redqueen.game import agent_observation


def _state(*moves: int):
    state = make_game("tictactoe").new_initial_state()
    for m in moves:
        state.apply_action(m)
    return state


def _obs(*moves: int) -> dict:
    state = _state(*moves)
    return agent_observation(state, state.current_player, "tensor")


def _naive_value(state) -> int:
    """Plain minimax on State objects (independent of the bitboard solver): value for the mover."""
    if state.is_terminal():
        raise AssertionError("called on a terminal state")
    mover = state.current_player
    best = -2
    for a in state.legal_actions():
        child = state.clone()
        child.apply_action(a)
        value = int(child.returns()[mover]) if child.is_terminal() else -_naive_value(child)
        best = max(best, value)
    return best


def test_first_move_value_is_a_draw_and_every_opening_is_optimal():
    assert mm.solve() == 0
    agent = MinimaxAgent(seed=0)
    assert agent.value(_obs()) == 0
    assert agent.action_probabilities(_obs()) == {c: pytest.approx(1 / 9) for c in range(9)}


def test_never_loses_against_random_in_either_seat():
    first = play("tictactoe", [MinimaxAgent(), RandomAgent()], n_games=1000, seed=11)
    second = play("tictactoe", [RandomAgent(), MinimaxAgent()], n_games=1000, seed=12)
    assert (first.returns[:, 0] >= 0).all()
    assert (second.returns[:, 1] >= 0).all()
    # and it does beat a random player most of the time
    assert first.wins[0] > 900 and second.wins[1] > 700


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_always_draws_against_itself(seed):
    result = play(
        "tictactoe", [MinimaxAgent(seed=seed), MinimaxAgent()], n_games=10, seed=seed, swap_seats=True
    )
    assert (result.returns == 0).all()
    assert (result.lengths == 9).all()
    assert (result.draws == 10).all()


def test_takes_an_immediate_win():
    # X: 0 1, O: 3 4, X to move: 2 wins at once (5 would lose to O's 5... but 2 is the only win)
    obs = _obs(0, 3, 1, 4)
    for seed in range(5):
        assert MinimaxAgent(seed=seed).act(obs) == 2
    assert MinimaxAgent().action_probabilities(obs) == {2: 1.0}
    assert MinimaxAgent().value(obs) == 1


def test_prefers_the_fastest_win():
    # X: 0 4, O: 1 2, X to move. X wins by 8 at once; 3 and 6 also win (a fork), but later.
    state = _state(0, 1, 4, 2)
    obs = agent_observation(state, 0, "tensor")
    naive_winning = []
    for a in state.legal_actions():
        child = state.clone()
        child.apply_action(a)
        if child.is_terminal() or _naive_value(child) == -1:
            naive_winning.append(a)
    assert len(naive_winning) > 1 and 8 in naive_winning
    assert MinimaxAgent().action_probabilities(obs) == {8: 1.0}


def test_blocks_an_immediate_loss_as_second_player():
    # X: 0 1, O: 4, O to move: O must take 2. The observation is from O's seat (plane 0 = O's marks).
    obs = _obs(0, 4, 1)
    assert obs["player"] == 1
    assert obs["observation"][1, 1, 0] == 1 and obs["observation"][0, 0, 1] == 1
    for seed in range(5):
        assert MinimaxAgent(seed=seed).act(obs) == 2
    assert MinimaxAgent().value(obs) == 0


def test_choices_are_reproducible_and_uniform_over_optimal_moves():
    obs = _obs()
    a, b = MinimaxAgent(seed=5), MinimaxAgent(seed=5)
    picks = [a.act(obs) for _ in range(200)]
    assert picks == [b.act(obs) for _ in range(200)]
    assert set(picks) == set(range(9))  # every opening is drawn, none is favoured by construction
    a.reset(seed=5)
    assert [a.act(obs) for _ in range(200)] == picks


def test_agrees_with_plain_minimax_on_random_positions():
    rng = np.random.default_rng(0)
    agent = MinimaxAgent()
    checked = 0
    while checked < 40:
        state = _state()
        for _ in range(int(rng.integers(3, 8))):
            if state.is_terminal():
                break
            legal = state.legal_actions()
            state.apply_action(legal[int(rng.integers(len(legal)))])
        if state.is_terminal():
            continue
        obs = agent_observation(state, state.current_player, "tensor")
        value = _naive_value(state)
        assert agent.value(obs) == value
        for move in agent.action_probabilities(obs):
            child = state.clone()
            child.apply_action(move)
            child_value = int(child.returns()[obs["player"]]) if child.is_terminal() else -_naive_value(child)
            assert child_value == value
        checked += 1


def test_short_names_resolve_to_minimax():
    assert isinstance(make_agent("minimax", "tictactoe"), MinimaxAgent)
    assert isinstance(make_agent("nash", "tictactoe"), MinimaxAgent)


def test_rejects_observations_that_are_not_tictactoe():
    agent = MinimaxAgent()
    kuhn = make_game("kuhn_poker").new_initial_state(0)
    with pytest.raises(ValueError, match="TicTacToe only"):
        agent.act(agent_observation(kuhn, kuhn.current_player, "tensor"))
    with pytest.raises(ValueError, match=r"shape \(3, 3, 2\)"):
        agent.act({"observation": np.zeros(11)})
    with pytest.raises(ValueError, match="tensor view"):
        agent.act(agent_observation(_state(), 0, "text"))
    with pytest.raises(ValueError, match="only 0s and 1s"):
        agent.act({"observation": np.full((3, 3, 2), 2)})


def test_rejects_impossible_or_finished_boards():
    agent = MinimaxAgent()
    both = np.zeros((3, 3, 2), dtype=np.int8)
    both[0, 0] = 1
    with pytest.raises(ValueError, match="both players"):
        agent.act({"observation": both})
    too_many = np.zeros((3, 3, 2), dtype=np.int8)
    too_many[0, :, 0] = [1, 1, 0]
    with pytest.raises(ValueError, match="2 own marks and 0 opponent marks"):
        agent.act({"observation": too_many})
    finished = _state(0, 3, 1, 4, 2).observation_tensor(1)  # X completed the top row; O's view
    with pytest.raises(ValueError, match="already over"):
        agent.act({"observation": finished})
    wrong_mask = _obs(0)
    wrong_mask["action_mask"] = np.zeros(9, dtype=np.int8)
    with pytest.raises(ValueError, match="action mask"):
        agent.act(wrong_mask)
