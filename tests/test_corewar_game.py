"""Core War as a redqueen game: the parallel and AEC envs, the Gymnasium view with fixed opponents,
text submissions of Redcode, returns from the battle."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

import redqueen
from redqueen.agents import Agent, RandomAgent
from redqueen.envs import corewar_v0
from redqueen.envs.corewar import Settings, assemble
from redqueen.envs.corewar.agents import WarriorAgent
from redqueen.envs.corewar.game import CoreWar
from redqueen.envs.corewar.mars import battle
from redqueen.game import IllegalAction, agent_observation
from redqueen.match import play

# a small library written here (the project's own warrior library has its own tests)
LIBRARY = {
    "imp": ";name imp\nmov 0, 1",
    "dwarf": ";name dwarf\nadd #4, 3\nmov 2, @2\njmp -2\ndat #0, #0",
    "sitter": ";name sitter\njmp 0",
    "suicide": ";name suicide\ndat 0, 0",
}
FAST = {"cycles": 2000}  # short rounds keep the API tests quick


def test_parallel_and_aec_api_tests():
    parallel_api_test(corewar_v0.parallel_env(library=LIBRARY, settings=FAST, text_observations=True), 10)
    parallel_seed_test(lambda: corewar_v0.parallel_env(library=LIBRARY, settings=FAST), num_cycles=5)
    api_test(corewar_v0.env(library=LIBRARY, settings=FAST), num_cycles=5)
    api_test(corewar_v0.env(library=LIBRARY, settings=FAST, order="sequential"), num_cycles=5)


def test_gym_view_with_a_fixed_opponent_list_passes_both_checkers():
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    opponent = WarriorAgent([LIBRARY["imp"], LIBRARY["dwarf"]])
    env = gym.make("redqueen/CoreWar-v0", opponent=opponent, library=LIBRARY, settings=FAST)
    check_env(env.unwrapped)
    sb3_check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    assert env.action_space.n == len(LIBRARY) and obs.shape == env.observation_space.shape
    # suicide (index 3) dies on its first step against anything: the learner loses every round
    _, reward, terminated, _, _ = env.step(3)
    assert terminated and reward == -1.0


def test_returns_are_the_battles_scores_and_the_seed_fixes_the_battle():
    game = CoreWar(library=LIBRARY, rounds=6)
    state = game.new_initial_state(7)
    state.apply_actions({0: 1, 1: 2})  # dwarf vs sitter
    result = state.result
    assert sum(result.wins) + result.ties == 6
    expected = (result.wins[0] - result.wins[1]) / 6
    np.testing.assert_allclose(state.returns(), [expected, -expected])
    # the same battle played directly, with the state's seed
    again = battle(state.warriors, rounds=6, seed=state._battle_seed, settings=game.settings)
    assert again.wins == result.wins and again.steps == result.steps
    replay = game.new_initial_state(7)
    replay.apply_actions({0: 1, 1: 2})
    assert replay.result.steps == result.steps
    other = game.new_initial_state(8)
    other.apply_actions({0: 1, 1: 2})
    assert other.result.positions.tolist() != result.positions.tolist()


def test_text_submissions_are_assembled_and_bad_redcode_is_an_invalid_answer():
    game = CoreWar(library=LIBRARY, settings=FAST)
    state = game.new_initial_state(0)
    action = state.parse_action(0, "My warrior:\n```redcode\n;name tiny imp\nmov.i $0, $1\n```\nGood luck!")
    assert action >= len(LIBRARY)
    assert state.warrior_of(action).instructions.tolist() == assemble("mov.i $0, $1").instructions.tolist()
    with pytest.raises(IllegalAction, match="does not assemble: line 2"):
        state.parse_action(1, "```redcode\nmov 0, 1\nmvo 0, 1\n```")
    with pytest.raises(IllegalAction, match="Legal moves"):
        state.parse_action(1, "I would rather not play.")
    assert state.parse_action(1, "\\boxed{dwarf}") == 1  # a library warrior by name
    state.apply_actions({0: action, 1: 1})
    assert state.is_terminal() and "tiny imp" in state.render()


class Writer(Agent):
    """A text agent that writes the same program every time (an LLM stand-in)."""

    view = "text"

    def __init__(self, reply):
        super().__init__("writer")
        self.reply = reply

    def act(self, observation):
        assert "Core War" in observation["text"] and "redcode" in observation["text"]
        return self.reply


def test_text_and_tensor_agents_play_through_the_match_runner():
    game = CoreWar(library=LIBRARY, settings=FAST)
    result = play(game, [Writer("```\nspl 0\nmov 0, 1\n```"), RandomAgent()], n_games=6, seed=0)
    assert result.n_games == 6 and result.invalid_answers.tolist() == [0, 0]
    bad = play(game, [Writer("```\nmov 0,\n```"), WarriorAgent(LIBRARY["imp"])], n_games=3, seed=0)
    assert bad.invalid_answers[0] == 3 and (bad.returns[:, 0] == game.min_return).all()


def test_sequential_order_shows_the_earlier_warrior():
    game = CoreWar(library=LIBRARY, order="sequential", settings=FAST)
    state = game.new_initial_state(0)
    assert state.current_player == 0 and state.legal_actions(1) == []
    state.apply_action(state.parse_action(0, "```\n;name first one\nmov 0, 1\n```"))
    text = agent_observation(state, 1, "text")["text"]
    assert "Player 0 has submitted this warrior" in text and "first one" in text
    hidden = CoreWar(library=LIBRARY, order="sequential", show_source=False, settings=FAST)
    s2 = hidden.new_initial_state(0)
    s2.apply_action(2)
    assert "has submitted" not in s2.observation_text(1)
    obs = state.observation_tensor(1)
    width = len(LIBRARY) + 1
    assert obs[1] == 1 and obs[2 + width - 1] == 1  # seat 1; player 0 played its own program
    state.apply_action(0)
    assert state.is_terminal()


def test_three_warriors_are_zero_sum_within_bounds():
    game = CoreWar(players=3, rounds=4, library=LIBRARY, settings=FAST)
    for seed in range(4):
        state = game.new_initial_state(seed)
        state.apply_actions({0: 0, 1: 1, 2: 3})
        r = state.returns()
        assert abs(r.sum()) < 1e-12 and (r >= game.min_return - 1e-12).all() and (r <= game.max_return).all()
        assert r[2] == pytest.approx(game.min_return)  # suicide never survives


def test_bad_options_and_actions_are_refused_clearly():
    with pytest.raises(ValueError, match="players"):
        CoreWar(players=1, library=LIBRARY)
    with pytest.raises(ValueError, match="order"):
        CoreWar(order="random", library=LIBRARY)
    with pytest.raises(ValueError, match="does not assemble"):
        CoreWar(library={"broken": "mov 0,"})
    state = CoreWar(library=LIBRARY, settings=Settings(cycles=100)).new_initial_state(0)
    with pytest.raises(IllegalAction, match="missing players"):
        state.apply_actions({0: 0})
    with pytest.raises(IllegalAction, match="neither a library warrior"):
        state.apply_actions({0: 0, 1: 99})


def test_the_default_library_is_the_projects_warriors():
    from redqueen.envs.corewar import warriors

    game = redqueen.make_game("corewar", settings=FAST)
    assert game.library == warriors.names() and game.num_distinct_actions == len(warriors.names())
    env = gym.make("redqueen/CoreWar-v0", opponent=WarriorAgent(["imp", "stone"]), settings=FAST)
    env.reset(seed=1)
    _, reward, terminated, _, info = env.step(game.library.index("paper"))
    assert terminated and -1 <= reward <= 1 and "returns" in info
