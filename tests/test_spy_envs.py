"""Who-Is-the-Spy through the adapters: PettingZoo's and Gymnasium's checkers, SB3's, the Gymnasium id
with its default scripted opponents, a MaskablePPO agent playing the discrete view, mixed tables in the
match runner."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from pettingzoo.test import api_test, seed_test
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import redqueen
from redqueen.agents import Agent, RandomAgent
from redqueen.envs import whoisthespy_v0
from redqueen.envs.spy.agents import ScriptedSpyAgent
from redqueen.envs.spy.game import WhoIsTheSpy
from redqueen.envs.spy.single import WhoIsTheSpyEnv
from redqueen.game import IllegalAction
from redqueen.match import play

torch.set_num_threads(1)

SMALL_SCENES = {"payload": "scenes", "image_size": 64}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"text_observations": True, "variant": "elimination", "order": "seeded"},
        {**SMALL_SCENES, "text_observations": True, "spy_knows_role": False},
        {**SMALL_SCENES, "blank_spy": True, "image_observation": True, "players": 5},
    ],
)
def test_pettingzoo_api_and_seed_tests(params):
    api_test(whoisthespy_v0.env(**params), num_cycles=30)
    seed_test(lambda: whoisthespy_v0.env(**params), num_cycles=30)


def test_aec_votes_in_turn_and_hidden():
    env = whoisthespy_v0.env(text_observations=True)
    env.reset(seed=3)
    state = env.game_state
    seen = []
    for agent in env.agent_iter():
        obs, _, terminated, truncated, _ = env.last()
        if terminated or truncated:
            env.step(None)
            continue
        if state.phase == "vote":
            seen.append(agent)
            assert "Decision: vote in secret" in obs["text"]
            assert state.votes == []  # nobody's vote is visible before all are in
            env.step(env.game.vocabulary_size + env.game.num_players)  # n/a
        else:
            env.step(int(np.flatnonzero(obs["action_mask"])[0]))
    assert seen == [f"player_{p}" for p in range(4) if p != state.spy]
    assert state.winner == "spy" and state.decision_returns().tolist().count(-0.5) == 3
    with pytest.raises(ValueError, match="asks the voters in turn"):
        whoisthespy_v0.env(simultaneous_vote=True)


def test_gym_make_without_arguments_has_scripted_opponents_and_passes_the_checkers():
    env = gym.make("redqueen/WhoIsTheSpy-v0")
    assert isinstance(env.unwrapped, WhoIsTheSpyEnv)
    assert all(isinstance(a, ScriptedSpyAgent) for a in env.unwrapped.opponents)
    assert len(env.unwrapped.opponents) == 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped)
        sb3_check_env(env)
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"opponent": "random", "seat": "alternate", **SMALL_SCENES},
        {"opponent": RandomAgent(seed=1), "seat": "random", "reward": "clue"},
        {**SMALL_SCENES, "image_observation": True, "blank_spy": True},
    ],
)
def test_gym_checkers_with_other_opponents_and_views(kwargs):
    gym_check_env(gym.make("redqueen/WhoIsTheSpy-v0", **kwargs).unwrapped)
    sb3_check_env(gym.make("redqueen/WhoIsTheSpy-v0", **kwargs), warn=False)


def test_gym_episode_rewards_add_up_to_the_game_return():
    env = gym.make("redqueen/WhoIsTheSpy-v0", opponent=["scripted", "random", "scripted"], seat=2)
    rng = np.random.default_rng(0)
    for seed in range(5):
        obs, info = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            action = int(rng.choice(np.flatnonzero(info["action_mask"])))
            obs, reward, done, _, info = env.step(action)
            total += reward
        assert total == pytest.approx(info["returns"][2])
        assert env.observation_space.contains(obs)
    with pytest.raises(ValueError, match="unknown opponent 'oracle'"):
        gym.make("redqueen/WhoIsTheSpy-v0", opponent="oracle")
    with pytest.raises(ValueError, match="a list of 3"):
        gym.make("redqueen/WhoIsTheSpy-v0", opponent=["scripted"])


def test_gym_make_in_a_fresh_process():
    code = (
        "import gymnasium as gym\n"
        "env = gym.make('redqueen:redqueen/WhoIsTheSpy-v0')\n"
        "obs, info = env.reset(seed=0)\n"
        "print(type(env.unwrapped).__name__, obs.shape == env.observation_space.shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["WhoIsTheSpyEnv", "True"]


def test_a_maskable_ppo_agent_trains_and_plays_the_discrete_view():
    from sb3_contrib import MaskablePPO

    from redqueen.agents.sb3 import SB3Agent

    env = gym.make("redqueen/WhoIsTheSpy-v0", seat="alternate", **SMALL_SCENES)
    model = MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(128)
    game = env.unwrapped.game
    ppo = SB3Agent(model, deterministic=False, name="ppo")
    result = play(
        game, [ppo] + [ScriptedSpyAgent(game) for _ in range(3)], n_games=8, seed=0, swap_seats=True
    )
    assert result.invalid_answers.tolist() == [0, 0, 0, 0]  # the mask keeps every move legal


class Talker(Agent):
    """A text agent standing in for a language model: a fixed clue, then a vote for the next seat."""

    view = "text"

    def act(self, observation):
        text = observation["text"]
        assert "Who Is the Spy?" in text and "\\boxed{}" in text
        if "Decision: vote" in text:
            return f"\\boxed{{{(observation['player'] + 1) % 4}}}"
        return "My clue is \\boxed{It is something people know well.}"


def test_text_and_tensor_agents_share_a_table():
    game = WhoIsTheSpy()
    agents = [Talker("talker"), ScriptedSpyAgent(game), ScriptedSpyAgent(game), RandomAgent()]
    result = play(game, agents, n_games=12, seed=1, swap_seats=True, transcript=True)
    assert result.invalid_answers.tolist() == [0, 0, 0, 0]
    talked = [t for game_turns in result.transcripts for t in game_turns if t["agent"] == "talker"]
    assert any(t["move"] == "It is something people know well" for t in talked)
    # the same table replays exactly from its seed
    again = play(game, agents, n_games=12, seed=1, swap_seats=True)
    np.testing.assert_array_equal(result.returns, again.returns)


def test_tensor_agents_with_an_illegal_move_forfeit():
    class Cheat(Agent):
        view = "tensor"

        def act(self, observation):
            return redqueen.make_game("whoisthespy").num_distinct_actions - 1  # "n/a" in the clue stage

    game = WhoIsTheSpy()
    result = play(
        game, [Cheat(), ScriptedSpyAgent(game), ScriptedSpyAgent(game), ScriptedSpyAgent(game)], 3, 0
    )
    assert result.invalid_answers[0] == 3 and (result.returns[:, 0] == game.min_return).all()
    state = game.new_initial_state(0)
    with pytest.raises(IllegalAction, match="give a clue, not a vote"):
        state.apply_action(game.num_distinct_actions - 1)
