"""The negotiation games behind the official checkers: PettingZoo's api_test and seed_test on every AEC module
and variant, Gymnasium's and stable-baselines3's check_env on every gym id and variant; and the public
names (negotiation_v0, redqueen/Negotiation-v0 with no arguments, opponent=)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from pettingzoo.test import api_test, render_test, seed_test
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from redqueen.agents import RandomAgent
from redqueen.envs import negotiation_v0, price_bargaining_v0, resource_trading_v0
from redqueen.envs.negotiation import Conceder, FairSplitter, GreedyProposer
from redqueen.envs.negotiation.single import NegotiationEnv
from redqueen.envs.single import SingleAgentEnv
from redqueen.registry import GYM_IDS

# api_test's heuristic warnings expected for dict observations whose tensor is all zeros at the end
HARMLESS = (
    "Observation is not a NumPy array",
    "Observation numpy array is all zeros.",
    "Observation space for each agent probably should be gymnasium.spaces.box or gymnasium.spaces.discrete",
)

AEC_VARIANTS: dict[str, tuple[Any, dict[str, Any]]] = {
    "dond": (negotiation_v0.env, {}),
    "dond-fair": (negotiation_v0.env, {"variant": "fair", "lambda_": -1.0, "max_turns": 6}),
    "dond-coop-text": (negotiation_v0.env, {"lambda_": 1.0, "text_observations": True}),
    "trading": (resource_trading_v0.env, {}),
    "trading-gain-text": (resource_trading_v0.env, {"scoring": "gain", "text_observations": True}),
    "bargaining": (price_bargaining_v0.env, {}),
    "bargaining-buyer-text": (price_bargaining_v0.env, {"first": "buyer", "text_observations": True}),
}

GYM_VARIANTS = [
    ("redqueen/Negotiation-v0", {}),
    ("redqueen/Negotiation-v0", {"variant": "fair", "seat": "alternate"}),
    ("redqueen/Negotiation-v0", {"lambda_": -1.0, "opponent": "greedy", "seat": 1}),
    ("redqueen/ResourceTrading-v0", {}),
    ("redqueen/ResourceTrading-v0", {"scoring": "gain", "seat": "alternate", "opponent": "conceder"}),
    ("redqueen/PriceBargaining-v0", {}),
    ("redqueen/PriceBargaining-v0", {"seat": "random", "first": "buyer", "opponent": "fair"}),
]


@pytest.mark.parametrize("name", sorted(AEC_VARIANTS))
def test_pettingzoo_api_test(name):
    make, kwargs = AEC_VARIANTS[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api_test(make(**kwargs), num_cycles=60)
    assert not {str(w.message) for w in caught} - set(HARMLESS)


@pytest.mark.parametrize("name", sorted(AEC_VARIANTS))
def test_pettingzoo_seed_test(name):
    make, kwargs = AEC_VARIANTS[name]
    seed_test(lambda **kw: make(**kwargs, **kw), num_cycles=40)


@pytest.mark.parametrize("make", [negotiation_v0.env, resource_trading_v0.env, price_bargaining_v0.env])
def test_pettingzoo_render_test(make, capsys):
    render_test(make)
    assert capsys.readouterr().out


@pytest.mark.parametrize(("env_id", "kwargs"), GYM_VARIANTS)
def test_gymnasium_and_sb3_check_env(env_id, kwargs):
    env = gym.make(env_id, **kwargs)
    assert isinstance(env.unwrapped, NegotiationEnv) and isinstance(env.unwrapped, SingleAgentEnv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped)
        sb3_check_env(env)
    assert [str(w.message) for w in caught] == []


def test_gym_ids_and_default_scripted_opponents():
    for env_id, game_id, opponent in [
        ("redqueen/Negotiation-v0", "negotiation", FairSplitter),
        ("redqueen/ResourceTrading-v0", "resource_trading", FairSplitter),
        ("redqueen/PriceBargaining-v0", "price_bargaining", Conceder),
    ]:
        assert GYM_IDS[env_id] == game_id
        env = gym.make(env_id)
        assert type(env.unwrapped.opponent) is opponent
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs) and info["action_mask"].any()


@pytest.mark.parametrize(
    ("opponent", "kind"),
    [("greedy", GreedyProposer), ("fair", FairSplitter), ("conceder", Conceder), ("random", RandomAgent)],
)
def test_opponent_by_short_name_or_object(opponent, kind):
    env = gym.make("redqueen/Negotiation-v0", opponent=opponent)
    assert type(env.unwrapped.opponent) is kind
    agent = GreedyProposer(accept_at=9)
    assert gym.make("redqueen/Negotiation-v0", opponent=agent).unwrapped.opponent is agent


def test_bad_opponents_and_games_are_named():
    with pytest.raises(ValueError, match=r"unknown opponent 'nash' for negotiation.*conceder, fair, greedy"):
        gym.make("redqueen/Negotiation-v0", opponent="nash")
    with pytest.raises(ValueError, match="NegotiationEnv plays"):
        NegotiationEnv("tictactoe")
    with pytest.raises(ValueError, match="lambda_"):
        gym.make("redqueen/Negotiation-v0", lambda_=3)


def test_game_parameters_pass_through_gym_make():
    env = gym.make("redqueen/Negotiation-v0", variant="fair", lambda_=0.5, max_turns=4)
    game = env.unwrapped.game
    assert (game.variant, game.lambda_, game.max_turns) == ("fair", 0.5, 4)
    obs, _ = env.reset(seed=3)
    assert obs.shape == (37 + 4,)


def test_same_seed_same_scenario_in_every_adapter():
    aec = negotiation_v0.env()
    aec.reset(seed=11)
    single = gym.make("redqueen/Negotiation-v0")
    single.reset(seed=11)
    assert aec.unwrapped.game_state.scenario == single.unwrapped.state.scenario


def test_aec_episode_rewards_are_the_returns():
    env = negotiation_v0.env(lambda_=0.5)
    rng = np.random.default_rng(0)
    for seed in range(20):
        env.reset(seed=seed)
        total = dict.fromkeys(env.possible_agents, 0.0)
        steps = 0
        for agent in env.agent_iter():
            obs, reward, term, trunc, _ = env.last()
            total[agent] += reward
            action = None if term or trunc else int(rng.choice(np.flatnonzero(obs["action_mask"])))
            env.step(action)
            steps += action is not None
        assert steps <= 10
        returns = env.unwrapped.game_state.returns()
        assert [total["player_0"], total["player_1"]] == pytest.approx(returns.tolist())


def test_public_names_in_a_fresh_interpreter():
    code = (
        "import gymnasium as gym\n"
        "env = gym.make('redqueen:redqueen/Negotiation-v0')\n"
        "obs, info = env.reset(seed=0)\n"
        "assert env.unwrapped.opponent.name == 'fair'\n"
        "from redqueen.envs import negotiation_v0\n"
        "aec = negotiation_v0.env(); aec.reset(seed=0); raw = negotiation_v0.raw_env(variant='fair')\n"
        "import redqueen.envs.resource_trading_v0, redqueen.envs.price_bargaining_v0\n"
        "for name in ('redqueen/ResourceTrading-v0', 'redqueen/PriceBargaining-v0'):\n"
        "    gym.make(name).reset(seed=0)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
