"""The single-agent Gymnasium view (SingleAgentEnv) and the stable-baselines3 agent (SB3Agent)."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import subprocess
import sys
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import redqueen
from redqueen import IllegalAction
from redqueen.agents import Agent, RandomAgent
from redqueen.agents.sb3 import SB3Agent, detect_algo
from redqueen.envs.single import SingleAgentEnv
from redqueen.game import SIMULTANEOUS, TERMINAL, Game, State, agent_observation

torch.set_num_threads(1)

GYM_IDS = ["redqueen/KuhnPoker-v0", "redqueen/TicTacToe-v0"]


def first_legal(env: gym.Env) -> int:
    return int(np.flatnonzero(env.unwrapped.action_masks())[0])


def play_episode(env: gym.Env, seed: int | None, choose) -> tuple[list, list[float], dict]:
    """Play one episode; returns (observations, rewards, last info)."""
    obs, info = env.reset(seed=seed)
    observations, rewards = [obs], []
    done = False
    while not done:
        obs, reward, terminated, truncated, info = env.step(choose(env, info))
        assert truncated is False
        observations.append(obs)
        rewards.append(reward)
        done = terminated
    return observations, rewards, info


def random_legal(rng: np.random.Generator):
    def choose(env, info):
        return int(rng.choice(np.flatnonzero(info["action_mask"])))

    return choose


# ---- API conformance -----------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", GYM_IDS)
def test_gymnasium_and_sb3_check_env(env_id, capsys):
    env = gym.make(env_id)
    assert isinstance(env.unwrapped, SingleAgentEnv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env)
    messages = [str(w.message) for w in caught]
    if env_id == "redqueen/KuhnPoker-v0":
        assert messages == []
    else:
        # TicTacToe keeps PettingZoo's (3, 3, 2) int8 board, which SB3's heuristics take for an image
        assert messages and all("image" in m for m in messages), messages


SEAT_MODES = [{"seat": "alternate", "opponent": "nash"}, {"seat": 1}, {"seat": "random"}]


@pytest.mark.parametrize("env_id", GYM_IDS)
@pytest.mark.parametrize("kwargs", SEAT_MODES)
def test_check_env_in_every_seat_mode(env_id, kwargs):
    # a seeded reset replays the same episode whatever the seat mode (gymnasium's determinism check)
    gym_check_env(gym.make(env_id, **kwargs).unwrapped)
    sb3_check_env(gym.make(env_id, **kwargs), warn=False)


def test_gym_make_with_module_prefix_in_fresh_process():
    code = (
        "import sys, gymnasium as gym\n"
        "assert 'redqueen' not in sys.modules\n"
        "env = gym.make('redqueen:redqueen/KuhnPoker-v0', rounds=2)\n"
        "obs, info = env.reset(seed=0)\n"
        "print(type(env.unwrapped).__name__, obs.shape, info['seat'], env.unwrapped.game.rounds)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["SingleAgentEnv", "(13,)", "0", "2"]


def test_spaces_and_masks():
    env = gym.make("redqueen/TicTacToe-v0")
    inner = env.unwrapped
    assert env.observation_space is inner.observation_space
    assert env.observation_space == inner.game.observation_space(0)
    assert env.action_space == gym.spaces.Discrete(9)
    obs, info = env.reset(seed=0)
    assert obs in env.observation_space and info["seat"] == 0
    assert info["action_mask"].dtype == np.int8 and info["action_mask"].tolist() == [1] * 9
    obs, _, _, _, info = env.step(4)
    masks = inner.action_masks()
    assert masks.dtype == bool
    assert masks.tolist() == info["action_mask"].astype(bool).tolist()
    taken = obs.reshape(9, 2).any(axis=1)  # our X on 4 and the opponent's O
    assert taken.sum() == 2 and not masks[taken].any() and masks[~taken].all()
    # the mask works with gymnasium's masked sampling
    assert masks[env.action_space.sample(mask=info["action_mask"])]


def test_observation_space_is_the_envs_own():
    game = redqueen.make_game("tictactoe")
    a, b = SingleAgentEnv(game), SingleAgentEnv(game)
    assert a.observation_space is not b.observation_space
    assert a.observation_space is not game.observation_space(0)
    assert a.observation_space == b.observation_space == game.observation_space(0)

    def samples_of_b(seed_a):
        b.observation_space.seed(0)
        a.observation_space.seed(seed_a)  # seeding a's space must not touch b's
        return np.stack([b.observation_space.sample() for _ in range(5)])

    np.testing.assert_array_equal(samples_of_b(1), samples_of_b(2))
    np.testing.assert_array_equal(samples_of_b(1), samples_of_b(3))


def test_kuhn_rounds_and_opponent_pass_through_gym_make():
    env = gym.make("redqueen/KuhnPoker-v0", opponent=RandomAgent(name="rnd"), rounds=3)
    inner = env.unwrapped
    assert inner.game.rounds == 3 and inner.opponent.name == "rnd"
    assert env.observation_space.shape == (13,)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="seat"):
        SingleAgentEnv("tictactoe", seat=2)
    with pytest.raises(ValueError, match="seat"):
        SingleAgentEnv("tictactoe", seat="left")
    with pytest.raises(ValueError, match="seat"):
        SingleAgentEnv("tictactoe", seat=True)
    with pytest.raises(ValueError, match="illegal_action"):
        SingleAgentEnv("tictactoe", illegal_action="ignore")
    with pytest.raises(ValueError, match="illegal_reward"):
        SingleAgentEnv("tictactoe", illegal_reward="a lot")
    with pytest.raises(ValueError, match="render_mode"):
        SingleAgentEnv("tictactoe", render_mode="rgb_array")
    with pytest.raises(ValueError, match="unknown agent"):
        SingleAgentEnv("tictactoe", opponent="grandmaster")
    with pytest.raises(ValueError, match="unknown game"):
        SingleAgentEnv("chess")
    with pytest.raises(ValueError, match="rounds"):
        gym.make("redqueen/KuhnPoker-v0", rounds=0)
    env = SingleAgentEnv("tictactoe")
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="reset options"):
        env.reset(options={"colour": "red"})


@pytest.mark.parametrize(
    ("action", "error", "match"),
    [
        (9, ValueError, "outside the action space"),
        (-1, ValueError, "outside the action space"),
        (1.5, TypeError, "integer"),
        ("4", TypeError, "integer"),
        (True, TypeError, "integer"),
        (np.array([1, 2]), TypeError, "shape"),
        (np.array(4.0), TypeError, "dtype"),
    ],
)
def test_actions_outside_the_space_raise(action, error, match):
    env = SingleAgentEnv("tictactoe")
    env.reset(seed=0)
    with pytest.raises(error, match=match):
        env.step(action)
    # the game is untouched and integer-like actions are accepted
    assert env.state.history() == []
    env.step(np.array(4))
    env.step(np.int64(int(np.flatnonzero(env.action_masks())[0])))


# ---- seats ---------------------------------------------------------------------------------------
def test_seat_1_lets_the_opponent_open():
    env = gym.make("redqueen/TicTacToe-v0", seat=1)
    obs, info = env.reset(seed=3)
    assert info["seat"] == 1
    assert obs[..., 0].sum() == 0 and obs[..., 1].sum() == 1  # one opponent mark, none of ours
    assert info["action_mask"].sum() == 8

    env = gym.make("redqueen/KuhnPoker-v0", seat=1)
    obs, info = env.reset(seed=3)
    assert obs[1] == 1.0  # we act second in the hand
    assert obs[5:7].sum() == 1.0  # and the opponent has already passed or bet
    assert len(env.unwrapped.state.history()) == 3  # two cards dealt and one move


def test_alternate_seats_from_the_first_reset():
    env = gym.make("redqueen/TicTacToe-v0", seat="alternate")
    seats, opened = [], []
    for k in range(5):
        obs, info = env.reset(seed=k if k == 0 else None)
        seats.append(info["seat"])
        opened.append(int(obs[..., 1].sum()))
        assert env.observation_space.contains(obs)
        play_episode_from_here(env, info)
    assert seats == [0, 1, 0, 1, 0]
    assert opened == [0, 1, 0, 1, 0]
    # the space object stays the same whichever seat is played
    assert env.observation_space is env.unwrapped.observation_space


def play_episode_from_here(env, info):
    done = False
    while not done:
        _, _, done, _, info = env.step(int(np.flatnonzero(info["action_mask"])[0]))


def test_random_seat_uses_the_env_rng():
    def seats(seed):
        env = SingleAgentEnv("kuhn_poker", seat="random")
        out = [env.reset(seed=seed)[1]["seat"]]
        out += [env.reset()[1]["seat"] for _ in range(29)]
        return out

    first = seats(11)
    assert set(first) == {0, 1}
    assert seats(11) == first
    assert seats(12) != first


def test_reset_option_forces_a_seat():
    env = SingleAgentEnv("tictactoe", seat=0)
    assert env.reset(seed=0, options={"seat": 1})[1]["seat"] == 1
    assert env.reset()[1]["seat"] == 0
    with pytest.raises(ValueError, match="seat"):
        env.reset(options={"seat": 5})


@pytest.mark.parametrize("seat", [0, 1, "alternate", "random"])
def test_same_seed_same_episodes(seat):
    def run(seed):
        env = SingleAgentEnv("kuhn_poker", opponent="random", seat=seat, rounds=4)
        choose = random_legal(np.random.default_rng(99))
        episodes = []
        for k in range(4):
            obs, rewards, info = play_episode(env, seed if k == 0 else None, choose)
            episodes.append((np.stack(obs), rewards, env.state.history(), info["seat"]))
        return episodes

    a, b, c = run(5), run(5), run(6)
    for (obs_a, rew_a, hist_a, seat_a), (obs_b, rew_b, hist_b, seat_b) in zip(a, b, strict=True):
        np.testing.assert_array_equal(obs_a, obs_b)
        assert rew_a == rew_b and hist_a == hist_b and seat_a == seat_b
    assert [e[2] for e in a] != [e[2] for e in c]  # another seed deals other cards


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seat": 0},
        {"seat": 1},
        {"seat": "random"},
        {"seat": "alternate"},
        {"seat": 0, "rounds": 3},
        {"seat": 1, "rounds": 3},
        {"seat": "random", "rounds": 3},
    ],
)
def test_same_seed_deals_the_same_cards_as_the_other_adapters(kwargs):
    from redqueen.envs import kuhn_poker_v0
    from redqueen.envs.kuhn_poker import KuhnPoker
    from redqueen.envs.text import TextEnv

    params = {k: v for k, v in kwargs.items() if k == "rounds"}
    env = gym.make("redqueen/KuhnPoker-v0", opponent="random", **kwargs)
    aec = kuhn_poker_v0.env(**params)
    text = TextEnv("kuhn_poker", **params)
    for seed in range(21):
        engine = KuhnPoker(**params).new_initial_state(seed).history()[:2]
        env.reset(seed=seed)
        aec.reset(seed=seed)
        text.reset(seed=seed)
        # the first hand's deal; the random seat and the opponent's seed never change it
        assert env.unwrapped.state.history()[:2] == engine, seed
        assert aec.game_state.history()[:2] == engine, seed
        assert text.state.history()[:2] == engine, seed

    if not params:  # one-hand games: unseeded resets continue the chance stream as the AEC env does
        env.reset(seed=7)
        aec.reset(seed=7)
        ours, theirs = [], []
        for _ in range(12):
            env.reset()
            aec.reset()
            ours.append(env.unwrapped.state.history()[:2])
            theirs.append(aec.game_state.history()[:2])
        assert ours == theirs


# ---- rewards -------------------------------------------------------------------------------------
def test_multi_hand_rewards_per_hand_sum_to_the_final_return():
    env = gym.make("redqueen/KuhnPoker-v0", rounds=3, seat="alternate")
    choose = random_legal(np.random.default_rng(0))
    mid_episode_rewards = 0
    for k in range(20):
        _, rewards, info = play_episode(env, k, choose)
        final = info["returns"][info["seat"]]
        assert sum(rewards) == pytest.approx(final)
        assert all(r in (-2.0, -1.0, 0.0, 1.0, 2.0) for r in rewards)
        mid_episode_rewards += sum(r != 0 for r in rewards[:-1])
        assert info["action_mask"].sum() == 0
    assert mid_episode_rewards > 0  # hands that end before the match pay out at once


def test_tictactoe_rewards_are_the_result():
    env = SingleAgentEnv("tictactoe", opponent="random")
    results = set()
    for k in range(30):
        _, rewards, info = play_episode(env, k, random_legal(np.random.default_rng(k)))
        assert rewards[:-1] == [0.0] * (len(rewards) - 1)
        assert rewards[-1] == info["returns"][0]
        assert isinstance(rewards[-1], float)
        results.add(rewards[-1])
    assert results == {-1.0, 0.0, 1.0}


def test_step_after_the_end_needs_reset():
    env = SingleAgentEnv("kuhn_poker")
    env.reset(seed=0)
    done = False
    while not done:
        _, _, done, _, _ = env.step(0)
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)


# ---- illegal learner moves -----------------------------------------------------------------------
def _taken_cell(obs: np.ndarray) -> int:
    return int(np.flatnonzero(obs.reshape(9, 2)[:, 1])[0])


@pytest.mark.parametrize("illegal_reward", [None, -5.0])
def test_illegal_move_penalty_ends_the_episode(illegal_reward):
    env = gym.make("redqueen/TicTacToe-v0", illegal_reward=illegal_reward)
    obs, _ = env.reset(seed=1)
    obs, *_ = env.step(4)
    obs, reward, terminated, truncated, info = env.step(_taken_cell(obs))
    assert reward == (-1.0 if illegal_reward is None else -5.0)
    assert terminated is True and truncated is False
    assert "not a legal move" in info["illegal_action"]
    assert info["action_mask"].sum() == 0 and info["returns"].tolist() == [-1.0, 1.0]
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)


def test_illegal_move_raise_mode_keeps_the_game():
    env = gym.make("redqueen/TicTacToe-v0", illegal_action="raise")
    env.reset(seed=1)
    env.step(4)
    history = env.unwrapped.state.history()
    with pytest.raises(IllegalAction, match="not a legal move"):
        env.step(4)
    assert env.unwrapped.state.history() == history
    _, _, _, _, info = env.step(first_legal(env))
    assert "illegal_action" not in info


# ---- opponents -----------------------------------------------------------------------------------
class ScriptedText(Agent):
    """A text agent that answers the same reply every time."""

    view = "text"

    def __init__(self, reply: str, seed: int | None = None):
        super().__init__("scripted", seed)
        self.reply = reply
        self.prompts: list[str] = []

    def act(self, observation: Mapping[str, Any]) -> str:
        self.prompts.append(observation["text"])
        return self.reply


class Cheater(Agent):
    view = "tensor"

    def act(self, observation: Mapping[str, Any]) -> int:
        return 7  # not a Kuhn poker action


def test_text_opponent_moves_through_parse_action():
    opponent = ScriptedText("I will \\boxed{bet}")
    env = SingleAgentEnv("kuhn_poker", opponent=opponent, seat=1)
    _, info = env.reset(seed=0)
    assert "opponent_forfeit" not in info
    assert env.state.moves == "b" and "Kuhn poker" in opponent.prompts[0]
    _, reward, terminated, _, info = env.step(0)  # we fold
    assert terminated and reward == -1.0


def test_invalid_text_reply_makes_the_opponent_forfeit():
    env = SingleAgentEnv("kuhn_poker", opponent=ScriptedText("[banana]"), seat=0)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(0)
    assert terminated and reward == 2.0  # the forfeiting player gets min_return = -2
    assert "banana" in info["opponent_forfeit"]

    # when the opponent opens and forfeits at once, the next step (any action) only reports the result
    env = SingleAgentEnv("kuhn_poker", opponent=ScriptedText("[banana]"), seat=1)
    _, info = env.reset(seed=0)
    assert "opponent_forfeit" in info and env.state.is_terminal()
    assert info["action_mask"].tolist() == [1, 1] and env.action_masks().all()
    _, reward, terminated, _, _ = env.step(1)
    assert terminated and reward == 2.0


class GivesUp(Agent):
    view = "text"

    def act(self, observation: Mapping[str, Any]) -> str:
        raise IllegalAction("no idea what to play")


def test_text_opponent_raising_illegal_action_forfeits():
    env = SingleAgentEnv("tictactoe", opponent=GivesUp(name="quitter"))
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(4)
    assert terminated and reward == 1.0
    assert "quitter" in info["opponent_forfeit"] and "no idea" in info["opponent_forfeit"]


class AlwaysFour(Agent):
    """A tensor agent that always plays cell 4 (legal only while it is free)."""

    view = "tensor"

    def act(self, observation: Mapping[str, Any]) -> int:
        return 4


def test_tensor_opponent_with_an_illegal_move_forfeits():
    env = SingleAgentEnv("tictactoe", opponent=AlwaysFour(name="four"), seat=0)
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(4)  # we take cell 4, the opponent plays it again
    assert terminated is True and truncated is False and reward == 1.0
    assert "four" in info["opponent_forfeit"] and "cell 4" in info["opponent_forfeit"]
    assert info["returns"].tolist() == [1.0, -1.0] and "illegal_action" not in info
    assert env.state.is_terminal() and env.state.history() == [4]
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)
    # the env resets and plays on: the opponent takes 4, then forfeits when it tries it again
    _, info = env.reset(seed=1)
    assert "opponent_forfeit" not in info
    _, reward, terminated, _, info = env.step(0)
    assert not terminated and reward == 0.0 and env.state.history() == [0, 4]
    _, reward, terminated, _, info = env.step(1)
    assert terminated and reward == 1.0 and "cell 4" in info["opponent_forfeit"]


def test_tensor_opponent_with_an_illegal_move_at_reset_forfeits():
    # the opponent opens and cheats at once: reset reports it, the next step (any action) collects
    env = SingleAgentEnv("kuhn_poker", opponent=Cheater(name="cheater"), seat=1)
    _, info = env.reset(seed=0)
    assert "cheater" in info["opponent_forfeit"] and "7" in info["opponent_forfeit"]
    assert env.state.is_terminal() and env.action_masks().all()
    _, reward, terminated, _, info = env.step(0)
    assert terminated and reward == 2.0 and info["returns"].tolist() == [-2.0, 2.0]
    # a reply that is no action index at all forfeits too
    env = SingleAgentEnv("tictactoe", opponent=Constant("4"), seat=1)
    _, info = env.reset(seed=0)
    assert "action index" in info["opponent_forfeit"]
    assert env.step(0)[1] == 1.0


def test_shared_opponent_does_not_couple_envs():
    # make_vec_env(..., env_kwargs={"opponent": agent}) builds several envs around one agent object
    shared = RandomAgent(name="shared")
    env1 = SingleAgentEnv("tictactoe", opponent=shared, seat=0)
    env2 = SingleAgentEnv("tictactoe", opponent=shared, seat=1)

    def episode(seed: int, meddle: bool) -> list[int]:
        _, info = env1.reset(seed=seed)
        done = False
        while not done:
            if meddle:  # env2 resets and moves in between env1's steps
                _, info2 = env2.reset(seed=1000 + seed)
                if not env2.state.is_terminal():
                    env2.step(int(np.flatnonzero(info2["action_mask"])[-1]))
            _, _, done, _, info = env1.step(int(np.flatnonzero(info["action_mask"])[0]))
        return env1.state.history()

    alone = [episode(seed, meddle=False) for seed in range(8)]
    assert len({tuple(h) for h in alone}) > 1  # the opponent's moves do depend on the seed
    assert [episode(seed, meddle=True) for seed in range(8)] == alone


def test_opponent_is_reseeded_from_the_env_seed():
    def moves(seed):  # the opponent's opening cell in 16 episodes
        env = SingleAgentEnv("tictactoe", opponent="random", seat=1)
        first = [int(env.reset(seed=seed)[0][..., 1].argmax())]
        return first + [int(env.reset()[0][..., 1].argmax()) for _ in range(15)]

    assert moves(0) == moves(0)
    assert len(set(moves(0))) > 1


def test_minimax_opponent_never_loses():

    env = gym.make("redqueen/TicTacToe-v0", opponent="minimax", seat="alternate")
    choose = random_legal(np.random.default_rng(0))
    finals = [sum(play_episode(env, k, choose)[1]) for k in range(12)]
    assert max(finals) <= 0.0 and min(finals) == -1.0


def test_kuhn_nash_opponent_alternating_multi_hand():

    env = gym.make("redqueen/KuhnPoker-v0", opponent="nash", seat="alternate", rounds=3)
    assert type(env.unwrapped.opponent).__name__ == "KuhnNashAgent"
    choose = random_legal(np.random.default_rng(0))
    seats = []
    for k in range(6):
        _, rewards, info = play_episode(env, 0 if k == 0 else None, choose)
        seats.append(info["seat"])
        assert sum(rewards) == pytest.approx(info["returns"][info["seat"]])
    assert seats == [0, 1, 0, 1, 0, 1]


# ---- a tiny simultaneous three-player game, for the general code paths ---------------------------
class MinorityState(State):
    """Three players pick 0 or 1 at once, twice; each round the lone minority player scores 2, the
    others lose 1."""

    def __init__(self, game):
        self.game = game
        self.round = 0
        self.scores = np.zeros(3)
        self.done = False

    @property
    def current_player(self):
        return TERMINAL if self.done else SIMULTANEOUS

    def legal_actions(self, player=None):
        return [] if self.done else [0, 1]

    def apply_action(self, action):
        raise NotImplementedError

    def apply_actions(self, actions):
        assert sorted(actions) == [0, 1, 2]
        picks = np.array([actions[p] for p in range(3)])
        for value in (0, 1):
            if (picks == value).sum() == 1:
                self.scores -= 1.0
                self.scores[int(np.flatnonzero(picks == value)[0])] += 3.0
        self.round += 1
        self.done = self.round == 2

    def is_terminal(self):
        return self.done

    def returns(self):
        return self.scores.copy()

    def clone(self):
        raise NotImplementedError

    def observation_tensor(self, player):
        return np.array([self.round / 2], dtype=np.float32)

    def observation_text(self, player):
        return f"round {self.round}"

    def action_to_text(self, player, action):
        return str(action)

    def _set_forfeit(self, returns):
        self.scores = returns
        self.done = True


class Minority(Game):
    id: ClassVar[str] = "minority"
    name: ClassVar[str] = "Minority"
    num_players = 3
    num_distinct_actions = 2
    min_return = -2.0
    max_return = 4.0
    max_game_length = 2

    def new_initial_state(self, seed=None, *, explicit_chance=False):
        return MinorityState(self)

    def observation_shape(self, player):
        return (1,)


class Constant(Agent):
    def __init__(self, move: int):
        super().__init__(f"always{move}")
        self.move = move

    def act(self, observation):
        return self.move


def test_simultaneous_three_player_game_with_an_opponent_per_seat():
    game = Minority()
    with pytest.raises(ValueError, match="list of 2"):
        SingleAgentEnv(game, opponent=[Constant(0)])
    env = SingleAgentEnv(game, opponent=[Constant(0), Constant(1)], seat=2)
    _, info = env.reset(seed=0)
    assert info["seat"] == 2 and info["action_mask"].tolist() == [1, 1]
    # seat 0 plays 0 and seat 1 plays 1: whatever we pick we are in a pair, and the other one scores
    _, reward, terminated, _, info = env.step(0)  # picks 0 1 0: seat 1 is the minority
    assert reward == -1.0 and not terminated
    _, reward, terminated, _, info = env.step(1)  # picks 0 1 1: seat 0 is the minority
    assert reward == -1.0 and terminated
    assert info["returns"].tolist() == [1.0, 1.0, -2.0]

    env = SingleAgentEnv(game, opponent=[Constant(0), Constant(0)], seat=0)
    env.reset(seed=0)
    _, reward, *_ = env.step(1)  # alone against two zeros: we are the minority
    assert reward == 2.0
    assert SingleAgentEnv(game, opponent="random", seat="alternate").reset(seed=0)[1]["seat"] == 0


# ---- rendering -----------------------------------------------------------------------------------
def test_render_modes(capsys):
    env = gym.make("redqueen/TicTacToe-v0", render_mode="ansi")
    env.reset(seed=0)
    env.step(4)
    text = env.render()
    assert isinstance(text, str) and text == env.unwrapped.state.render() and "X" in text

    env = SingleAgentEnv("kuhn_poker", render_mode="human")
    capsys.readouterr()
    env.reset(seed=0)
    assert env.render() is None
    assert "Kuhn poker" in capsys.readouterr().out

    env = SingleAgentEnv("kuhn_poker")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


# ---- stable-baselines3 -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ppo_tictactoe():
    env = gym.make("redqueen/TicTacToe-v0", opponent="random")
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=4, seed=0, device="cpu")
    model.learn(total_timesteps=2048)
    assert model.num_timesteps >= 2048
    return model


@pytest.fixture(scope="module")
def maskable_kuhn():
    sb3_contrib = pytest.importorskip("sb3_contrib")
    env = gym.make("redqueen/KuhnPoker-v0", opponent="random", seat="alternate")
    model = sb3_contrib.MaskablePPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=4, seed=0)
    model.learn(total_timesteps=2048)
    assert model.num_timesteps >= 2048
    return model


class CountIllegal(gym.Wrapper):
    def __init__(self, env):
        super().__init__(env)
        self.illegal = 0
        self.episodes = 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.illegal += "illegal_action" in info
        self.episodes += terminated
        return obs, reward, terminated, truncated, info


def test_maskable_ppo_uses_action_masks_and_never_plays_illegal():
    sb3_contrib = pytest.importorskip("sb3_contrib")
    env = CountIllegal(gym.make("redqueen/TicTacToe-v0", opponent="random", seat="random"))
    model = sb3_contrib.MaskablePPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=2, seed=1)
    model.learn(total_timesteps=512)
    assert env.episodes > 50 and env.illegal == 0


def play_manually(game_id: str, agents: list[Agent], n_games: int, seed: int) -> np.ndarray:
    """Play games with agent_observation; an illegal action raises in apply_action."""
    game = redqueen.make_game(game_id)
    rng = np.random.default_rng(seed)
    returns = []
    for _ in range(n_games):
        state = game.new_initial_state(rng)
        for agent in agents:
            agent.reset(seed=int(rng.integers(2**31)))
        while not state.is_terminal():
            player = state.current_player
            agent = agents[player]
            state.apply_action(agent.act(agent_observation(state, player, agent.view)))
        returns.append(state.returns())
    return np.array(returns)


def assert_probabilities_over_legal(agent: SB3Agent, obs: dict) -> dict[int, float]:
    probs = agent.action_probabilities(obs)
    assert set(probs) == set(np.flatnonzero(obs["action_mask"]).tolist())
    assert sum(probs.values()) == pytest.approx(1.0)
    assert all(0.0 <= p <= 1.0 for p in probs.values())
    return probs


def test_ppo_agent_plays_tictactoe_from_both_seats(ppo_tictactoe):
    agent = SB3Agent(ppo_tictactoe)
    assert agent.view == "tensor" and agent.name == "PPO"
    for seats in ([agent, RandomAgent()], [RandomAgent(), agent]):
        returns = play_manually("tictactoe", seats, n_games=20, seed=0)
        assert returns.shape == (20, 2) and np.all(returns.sum(axis=1) == 0)
    # probabilities over the legal moves only, renormalised; the move played is the likeliest
    game = redqueen.make_game("tictactoe")
    state = game.new_initial_state()
    for cell in (4, 0, 8):
        state.apply_action(cell)
    obs = agent_observation(state, 1, "tensor")
    probs = assert_probabilities_over_legal(agent, obs)
    assert agent.act(obs) == max(probs, key=probs.get)


def test_masking_excludes_the_models_favourite(ppo_tictactoe):
    agent = SB3Agent(ppo_tictactoe, deterministic=False)
    state = redqueen.make_game("tictactoe").new_initial_state()
    obs = agent_observation(state, 0, "tensor")
    favourite, _ = ppo_tictactoe.predict(obs["observation"], deterministic=True)
    favourite = int(favourite)
    obs["action_mask"] = obs["action_mask"].copy()
    obs["action_mask"][favourite] = 0
    full = agent.action_probabilities(agent_observation(state, 0, "tensor"))
    probs = assert_probabilities_over_legal(agent, obs)
    assert favourite not in probs and SB3Agent(ppo_tictactoe).act(obs) != favourite
    # renormalised: the ratios between legal moves are the model's
    a, b = sorted(probs)[:2]
    assert probs[a] / probs[b] == pytest.approx(full[a] / full[b], rel=1e-6)


def test_probabilities_describe_the_policy_that_is_played(ppo_tictactoe):
    obs = agent_observation(redqueen.make_game("tictactoe").new_initial_state(), 0, "tensor")
    greedy = SB3Agent(ppo_tictactoe).action_probabilities(obs)
    assert sorted(greedy.values())[-1] == 1.0 and sum(greedy.values()) == 1.0
    assert greedy[SB3Agent(ppo_tictactoe).act(obs)] == 1.0
    stochastic = SB3Agent(ppo_tictactoe, deterministic=False).action_probabilities(obs)
    assert max(stochastic, key=stochastic.get) == max(greedy, key=greedy.get)
    assert max(stochastic.values()) < 1.0


def test_stochastic_agent_samples_with_its_seed(ppo_tictactoe):
    obs = agent_observation(redqueen.make_game("tictactoe").new_initial_state(), 0, "tensor")

    def draws(seed):
        agent = SB3Agent(ppo_tictactoe, deterministic=False, seed=seed)
        return [agent.act(obs) for _ in range(40)]

    assert draws(1) == draws(1)
    assert len(set(draws(1))) > 1


def test_maskable_ppo_agent_plays_kuhn(maskable_kuhn):
    agent = SB3Agent(maskable_kuhn, name="mppo")
    returns = play_manually("kuhn_poker", [agent, RandomAgent()], n_games=30, seed=1)
    assert returns.shape == (30, 2) and np.all(np.abs(returns[:, 0]) >= 1)
    state = redqueen.make_game("kuhn_poker").new_initial_state(0)
    assert_probabilities_over_legal(agent, agent_observation(state, 0, "tensor"))


def test_save_load_detects_the_algorithm(ppo_tictactoe, maskable_kuhn, tmp_path):
    ppo_path = tmp_path / "ppo_ttt.zip"
    ppo_tictactoe.save(ppo_path)
    maskable_tictactoe_path = tmp_path / "mppo_kuhn"
    maskable_kuhn.save(maskable_tictactoe_path)  # SB3 adds .zip
    assert detect_algo(ppo_path) == "PPO"
    assert detect_algo(maskable_tictactoe_path) == "MaskablePPO"

    loaded = SB3Agent(ppo_path)
    assert loaded.name == "ppo_ttt" and type(loaded.model).__name__ == "PPO"
    state = redqueen.make_game("tictactoe").new_initial_state()
    state.apply_action(4)
    obs = agent_observation(state, 1, "tensor")
    expected = SB3Agent(ppo_tictactoe, deterministic=False).action_probabilities(obs)
    got = SB3Agent(ppo_path, deterministic=False).action_probabilities(obs)
    assert got.keys() == expected.keys()
    assert all(got[a] == pytest.approx(expected[a], rel=1e-5) for a in got)

    mloaded = SB3Agent(maskable_tictactoe_path)
    assert type(mloaded.model).__name__ == "MaskablePPO"
    assert SB3Agent(ppo_path, algo="PPO").name == "ppo_ttt"

    with pytest.raises(FileNotFoundError, match="no saved"):
        SB3Agent(tmp_path / "missing.zip")
    with pytest.raises(ValueError, match="unknown algo"):
        SB3Agent(ppo_path, algo="SuperPPO")
    junk = tmp_path / "junk.zip"
    junk.write_text("not a zip")
    with pytest.raises(ValueError, match="not a stable-baselines3 model"):
        SB3Agent(junk)
    with pytest.raises(TypeError, match="model or the path"):
        SB3Agent(42)


def test_wrong_game_observation_is_a_clear_error(ppo_tictactoe):
    agent = SB3Agent(ppo_tictactoe)
    kuhn_obs = agent_observation(redqueen.make_game("kuhn_poker").new_initial_state(0), 0, "tensor")
    with pytest.raises(ValueError, match="action mask has shape"):
        agent.act(kuhn_obs)
    kuhn_obs["action_mask"] = np.ones(9, dtype=np.int8)
    with pytest.raises(ValueError, match="does not fit the model's observation space"):
        agent.act(kuhn_obs)
    with pytest.raises(ValueError, match="action_mask"):
        agent.act({"observation": np.zeros((3, 3, 2), dtype=np.int8)})


def test_dqn_agent_is_greedy_over_legal_q_values():
    env = gym.make("redqueen/TicTacToe-v0")
    model = DQN("MlpPolicy", env, learning_starts=0, buffer_size=500, seed=0, device="cpu")
    agent = SB3Agent(model)
    state = redqueen.make_game("tictactoe").new_initial_state()
    state.apply_action(0)
    state.apply_action(1)
    obs = agent_observation(state, 0, "tensor")
    with torch.no_grad():
        tensor, _ = model.policy.obs_to_tensor(obs["observation"])
        q = model.policy.q_net(tensor).numpy().ravel()
    legal = np.flatnonzero(obs["action_mask"])
    best = int(legal[np.argmax(q[legal])])
    probs = assert_probabilities_over_legal(agent, obs)
    assert probs[best] == 1.0 and agent.act(obs) == best
    assert SB3Agent(model, deterministic=False).act(obs) == best


def test_sb3_agent_in_the_match_runner(ppo_tictactoe):
    result = redqueen.play("tictactoe", [SB3Agent(ppo_tictactoe), RandomAgent()], n_games=20, seed=0)
    assert result.returns.shape == (20, 2)
    assert np.all(result.invalid_answers == 0)


@pytest.mark.filterwarnings("ignore:.*render_mode='rgb_array' that is not in the possible render_modes")
def test_sb3_make_vec_env_builds_the_registered_envs():
    # make_vec_env first asks for render_mode="rgb_array" and retries without it on a TypeError
    from stable_baselines3.common.env_util import make_vec_env

    vec = make_vec_env("redqueen/TicTacToe-v0", n_envs=2, seed=0, env_kwargs={"opponent": "minimax"})
    assert vec.reset().shape == (2, 3, 3, 2)
    with pytest.raises(ValueError, match="render_mode"):
        gym.make("redqueen/KuhnPoker-v0", render_mode="rgb_array")
