"""The PettingZoo AEC adapter (redqueen.envs.aec.GameEnv) and the kuhn_poker_v0 / tictactoe_v0 modules."""

from __future__ import annotations

import logging
import random
import warnings
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.test import api_test, render_test, seed_test

from redqueen.envs import kuhn_poker_v0, tictactoe_v0
from redqueen.envs.aec import ActionOutOfSpace, EnvOrderError, GameEnv
from redqueen.envs.kuhn_poker import KuhnPoker, KuhnPokerState
from redqueen.game import SIMULTANEOUS, TERMINAL, Game, IllegalAction, State

ENV_FNS = {
    "tictactoe": tictactoe_v0.env,
    "kuhn": kuhn_poker_v0.env,
    "kuhn3": lambda **kw: kuhn_poker_v0.env(rounds=3, **kw),
}

# api_test's heuristic warnings that are expected for dict observations with a terminal all-zero tensor
HARMLESS_WARNINGS = (
    "Observation is not a NumPy array",
    "Observation numpy array is all zeros.",
    "Observation space for each agent probably should be gymnasium.spaces.box or gymnasium.spaces.discrete",
)


def play_random(env: GameEnv, rng: random.Random, seed: int | None = None) -> list[tuple[Any, ...]]:
    """Play one game with random legal moves; returns (agent, obs, reward, term, trunc, info, action)."""
    env.reset(seed=seed)
    trace = []
    for agent in env.agent_iter():
        obs, reward, term, trunc, info = env.last()
        action = None if term or trunc else rng.choice(np.flatnonzero(obs["action_mask"]).tolist())
        trace.append((agent, obs, reward, term, trunc, dict(info), action))
        env.step(action)
    return trace


def final_rewards(trace: list[tuple[Any, ...]]) -> dict[str, float]:
    """Sum of the rewards ``last()`` reported to each agent over one game."""
    total: dict[str, float] = {}
    for agent, _obs, reward, *_ in trace:
        total[agent] = total.get(agent, 0.0) + reward
    return total


# ---- PettingZoo's own conformance tests ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("tictactoe", {}),
        ("kuhn", {}),
        ("kuhn3", {}),
        ("tictactoe", {"text_observations": True}),
        ("kuhn3", {"text_observations": True}),
        ("kuhn3", {"dense_rewards": True}),
    ],
)
def test_api_test(name: str, kwargs: dict[str, Any]) -> None:
    env = ENV_FNS[name](**kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api_test(env, num_cycles=60)
    unexpected = {str(w.message) for w in caught} - set(HARMLESS_WARNINGS)
    assert not unexpected


@pytest.mark.parametrize("name", sorted(ENV_FNS))
def test_seed_test(name: str) -> None:
    seed_test(ENV_FNS[name], num_cycles=50)


@pytest.mark.parametrize("name", sorted(ENV_FNS))
def test_render_test(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    render_test(ENV_FNS[name])
    assert capsys.readouterr().out  # "human" printed something


def test_render_modes_show_the_state(capsys: pytest.CaptureFixture[str]) -> None:
    env = tictactoe_v0.env(render_mode="ansi")
    env.reset()
    env.step(4)
    assert env.render() == env.game_state.render() == "...\n.X.\n...\n(O to move)"
    human = tictactoe_v0.env(render_mode="human")
    human.reset()
    human.step(0)
    assert human.render() is None
    assert capsys.readouterr().out == "X..\n...\n...\n(O to move)\n"
    silent = tictactoe_v0.env()
    silent.reset()
    with pytest.warns(UserWarning, match="without specifying any render mode"):
        assert silent.render() is None
    assert capsys.readouterr().out == ""


# ---- spaces and observations ----------------------------------------------------------------------------
def test_agents_spaces_and_metadata() -> None:
    env = kuhn_poker_v0.env(rounds=3, text_observations=True)
    assert env.possible_agents == ["player_0", "player_1"]
    assert env.metadata == {
        "name": "kuhn_poker_v0",
        "render_modes": ["human", "ansi"],
        "is_parallelizable": False,
        "render_fps": 1,
    }
    assert tictactoe_v0.raw_env().metadata["name"] == "tictactoe_v0"
    s0, s1 = env.observation_space("player_0"), env.observation_space("player_1")
    assert s0 is env.observation_space("player_0") and s0 is not s1
    assert env.action_space("player_0") is env.action_space("player_0")
    assert env.action_space("player_0") is not env.action_space("player_1")
    assert set(s0.spaces) == {"observation", "action_mask", "text"}
    assert s0["observation"].shape == (13,) and s0["observation"].dtype == np.float32
    assert s0["action_mask"].shape == (2,) and s0["action_mask"].dtype == np.int8
    assert s0["text"].min_length == 0
    assert env.action_space("player_1").n == 2
    with pytest.raises(KeyError, match="unknown agent 'player_2'"):
        env.observation_space("player_2")


def test_observation_matches_the_engine_and_mask_is_zero_off_turn() -> None:
    env = tictactoe_v0.env()
    env.reset()
    env.step(4)
    state = env.game_state
    obs1, obs0 = env.observe("player_1"), env.observe("player_0")
    assert np.array_equal(obs1["observation"], state.observation_tensor(1))
    assert np.array_equal(obs0["observation"], state.observation_tensor(0))
    assert obs1["action_mask"].tolist() == [1, 1, 1, 1, 0, 1, 1, 1, 1]
    assert obs0["action_mask"].tolist() == [0] * 9
    assert obs1["action_mask"].dtype == np.int8
    # cached until the state changes; a new step gives new arrays and leaves the old ones alone
    assert env.observe("player_1") is obs1
    env.step(0)
    assert env.observe("player_1") is not obs1
    assert obs1["action_mask"].tolist() == [1, 1, 1, 1, 0, 1, 1, 1, 1]
    assert env.observe("player_0")["action_mask"].tolist() == [0, 1, 1, 1, 0, 1, 1, 1, 1]
    obs0["action_mask"][:] = 1  # changing an old off-turn mask does not leak into the next one
    assert env.observe("player_1")["action_mask"].tolist() == [0] * 9
    # a caller changing a returned mask does not change later observations with the same legal moves
    for _ in range(3):
        env.reset()
        mask = env.observe("player_0")["action_mask"]
        assert mask.tolist() == [1] * 9
        mask[:] = 0
    with pytest.raises(KeyError, match="unknown agent"):
        env.observe("player_7")


def test_text_observations_and_legal_moves() -> None:
    env = kuhn_poker_v0.env(text_observations=True)
    env.reset(seed=3)
    obs, _, _, _, info = env.last()
    state = env.game_state
    assert env.agent_selection == "player_0"
    assert obs["text"] == state.observation_text(0)
    assert info == {"legal_moves": ["[check]", "[bet]"]}
    assert env.infos["player_1"] == {"legal_moves": []}
    env.step(1)  # bet
    obs, _, _, _, info = env.last()
    assert env.agent_selection == "player_1"
    assert info == {"legal_moves": ["[fold]", "[call]"]}
    assert "Player 0 bet." in obs["text"]
    assert env.observation_space("player_1").contains(obs)
    # infos stay cheap without text observations
    plain = kuhn_poker_v0.env()
    plain.reset(seed=3)
    assert plain.infos == {"player_0": {}, "player_1": {}}
    assert "text" not in plain.last()[0]


def test_text_outside_charset_is_a_clear_error() -> None:
    env = tictactoe_v0.env(text_observations=True)
    env = GameEnv(env.game, text_observations=True, text_charset="0123456789")
    env.reset()
    with pytest.raises(ValueError, match="outside the text space's charset"):
        env.last()


# ---- seeding ---------------------------------------------------------------------------------------------
def test_same_seed_same_trajectory() -> None:
    traces = []
    for _ in range(2):
        env = kuhn_poker_v0.env(rounds=3, text_observations=True)
        traces.append([play_random(env, random.Random(5), seed=11 if g == 0 else None) for g in range(5)])
    for game_a, game_b in zip(*traces, strict=True):
        assert len(game_a) == len(game_b)
        for step_a, step_b in zip(game_a, game_b, strict=True):
            agent_a, obs_a, *rest_a = step_a
            agent_b, obs_b, *rest_b = step_b
            assert agent_a == agent_b and rest_a == rest_b
            assert obs_a["text"] == obs_b["text"]
            assert np.array_equal(obs_a["observation"], obs_b["observation"])
            assert np.array_equal(obs_a["action_mask"], obs_b["action_mask"])


def test_seed_drives_one_generator_across_resets() -> None:
    # reset(seed=s) seeds one Generator; later resets without a seed continue its stream
    env = kuhn_poker_v0.env()
    deals = []
    for g in range(20):
        env.reset(seed=7 if g == 0 else None)
        deals.append(tuple(env.game_state.cards))
    rng = np.random.default_rng(7)
    game = KuhnPoker()
    assert deals == [tuple(game.new_initial_state(rng).cards) for _ in range(20)]
    assert len(set(deals)) > 1
    env.reset(seed=7)
    assert tuple(env.game_state.cards) == deals[0]
    other = []
    for g in range(20):
        env.reset(seed=8 if g == 0 else None)
        other.append(tuple(env.game_state.cards))
    assert other != deals


# ---- rewards ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ENV_FNS))
def test_random_games_rewards_are_the_engine_returns(name: str) -> None:
    env = ENV_FNS[name]()
    rng = random.Random(0)
    for g in range(40):
        trace = play_random(env, rng, seed=g if g == 0 else None)
        returns = env.game_state.returns()
        assert env.game_state.is_terminal()
        totals = final_rewards(trace)
        assert totals == {"player_0": returns[0], "player_1": returns[1]}
        assert sum(totals.values()) == 0.0
        # each agent is stepped with None exactly once, after the game ended
        assert [a for a, *_, action in trace if action is None] == (
            ["player_1", "player_0"] if trace[-3][0] == "player_0" else ["player_0", "player_1"]
        )
        assert env.agents == [] and env.rewards == {}


def test_dense_rewards_pay_each_hand() -> None:
    env = kuhn_poker_v0.env(rounds=3, dense_rewards=True)
    rng = random.Random(1)
    paid_before_end = False
    for g in range(10):
        trace = play_random(env, rng, seed=2 if g == 0 else None)
        returns = env.game_state.returns()
        assert final_rewards(trace) == {"player_0": returns[0], "player_1": returns[1]}
        paid_before_end |= any(reward != 0 for _, _, reward, term, *_ in trace if not term)
    assert paid_before_end


def test_terminal_rewards_and_dead_steps() -> None:
    env = tictactoe_v0.env()
    env.reset()
    for cell in (0, 3, 1, 4):
        env.step(cell)
    env.step(2)  # X completes the top row
    assert env.terminations == {"player_0": True, "player_1": True}
    assert env.truncations == {"player_0": False, "player_1": False}
    assert env.rewards == {"player_0": 1.0, "player_1": -1.0}
    assert env.agent_selection == "player_1"  # the loser sees the result first
    obs, reward, term, trunc, _ = env.last()
    assert (reward, term, trunc) == (-1.0, True, False)
    assert obs["action_mask"].tolist() == [0] * 9
    with pytest.raises(ValueError, match="only valid action is None"):
        env.step(5)
    env.step(None)
    assert env.agents == ["player_0"] and env.agent_selection == "player_0"
    assert env.last()[1] == 1.0
    env.step(None)
    assert env.agents == []
    with pytest.raises(EnvOrderError, match="call reset"):
        env.step(None)


# ---- illegal and invalid actions ------------------------------------------------------------------------
def test_illegal_action_terminates_with_forfeit(caplog: pytest.LogCaptureFixture) -> None:
    env = tictactoe_v0.env()
    env.reset()
    env.step(4)
    with caplog.at_level(logging.WARNING, logger="redqueen.envs.aec"):
        env.step(4)  # player_1 plays the taken centre
    assert env.game_state.is_terminal()
    assert env.terminations == {"player_0": True, "player_1": True}
    assert env.rewards == {"player_0": 1.0, "player_1": -1.0}
    assert env._cumulative_rewards == {"player_0": 1.0, "player_1": -1.0}
    assert "cell 4 is already taken" in env.infos["player_1"]["illegal_action"]
    assert "illegal_action" not in env.infos["player_0"]
    assert "illegal move by player_1" in caplog.text
    rewards = {}
    for agent in env.agent_iter():
        rewards[agent] = env.last()[1]
        env.step(None)
    assert rewards == {"player_0": 1.0, "player_1": -1.0}
    # a new game starts clean, and a second illegal move is not logged as a warning again
    env.reset()
    assert env.infos == {"player_0": {}, "player_1": {}}
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="redqueen.envs.aec"):
        env.step(0)
        env.step(1)
        env.step(1)
    assert env.rewards == {"player_0": -1.0, "player_1": 1.0}
    assert caplog.text == ""


def test_illegal_action_forfeit_uses_min_return(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kuhn poker has no illegal in-space move, so make the engine refuse one: the offender loses
    # min_return (2 chips per hand), whatever the chips so far
    env = kuhn_poker_v0.env(rounds=3)
    env.reset(seed=0)
    env.step(1)

    def refuse(self: State, action: int) -> None:
        raise IllegalAction("no such move here.")

    monkeypatch.setattr(KuhnPokerState, "apply_action", refuse)
    env.step(0)
    assert env.rewards == {"player_0": 6.0, "player_1": -6.0}
    assert env.infos["player_1"] == {"illegal_action": "no such move here."}
    assert env.game_state.returns().tolist() == [6.0, -6.0]


def test_illegal_action_raise_mode_leaves_the_game_unchanged() -> None:
    env = tictactoe_v0.env(illegal_action="raise")
    env.reset()
    env.step(4)
    obs_before = env.observe("player_1")
    with pytest.raises(IllegalAction, match="cell 4 is already taken"):
        env.step(4)
    assert env.agent_selection == "player_1"
    assert env.game_state.board()[4] == "X" and not env.game_state.is_terminal()
    assert env.observe("player_1") is obs_before
    env.step(0)
    assert env.game_state.board()[0] == "O"


@pytest.mark.parametrize("action", [9, -1, 2.0, "4", True, np.float32(1.0), [1]])
def test_action_outside_the_space_is_a_clear_error(action: Any) -> None:
    env = tictactoe_v0.env()
    env.reset()
    with pytest.raises(ActionOutOfSpace, match="player_0"):
        env.step(action)
    assert env.game_state.board() == ["."] * 9  # nothing happened


def test_numpy_integer_actions_are_accepted() -> None:
    env = tictactoe_v0.env()
    env.reset()
    env.step(np.int64(4))
    env.step(np.int32(0))
    env.step(np.array(8))
    assert env.game_state.board() == ["O", ".", ".", ".", "X", ".", ".", ".", "X"]


def test_none_for_a_live_agent_is_an_error() -> None:
    env = kuhn_poker_v0.env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="player_0 is to move"):
        env.step(None)


@given(st.lists(st.integers(0, 8), min_size=1, max_size=14))
@settings(max_examples=60, deadline=None)
def test_any_in_space_sequence_keeps_the_protocol(actions: list[int]) -> None:
    # legal or not, every in-space move leaves a consistent, zero-sum env
    env = tictactoe_v0.env()
    env.reset()
    for action in actions:
        if not env.agents:
            break
        agent = env.agent_selection
        term = env.last()[2]
        legal = env.last()[0]["action_mask"][action] == 1
        env.step(None if term else action)
        assert set(env.rewards) == set(env.terminations) == set(env.infos) == set(env.agents)
        assert sum(env.rewards.values()) == 0.0
        if not term and not legal:
            assert env.rewards[agent] == -1.0 and "illegal_action" in env.infos[agent]
        if env.agents and not env.terminations[env.agent_selection]:
            assert env.game_state.current_player == env.possible_agents.index(env.agent_selection)


# ---- call order and construction -------------------------------------------------------------------------
def test_calls_before_reset_are_clear_errors() -> None:
    env = kuhn_poker_v0.env()
    with pytest.raises(EnvOrderError, match=r"reset\(\) needs to be called before step"):
        env.step(0)
    with pytest.raises(AssertionError, match=r"reset\(\) needs to be called before observe"):
        env.observe("player_0")
    with pytest.raises(EnvOrderError, match=r"before last"):
        env.last()
    with pytest.raises(EnvOrderError, match=r"before agent_iter"):
        env.agent_iter()
    with pytest.raises(EnvOrderError, match=r"before render"):
        kuhn_poker_v0.env(render_mode="ansi").render()
    with pytest.raises(AttributeError, match="agents cannot be accessed before reset"):
        _ = env.agents
    with pytest.raises(AttributeError, match="rewards cannot be accessed before reset"):
        _ = env.rewards
    assert not hasattr(env, "agent_selection")
    with pytest.raises(AttributeError, match="no attribute 'bogus'"):
        _ = env.bogus  # type: ignore[attr-defined]


def test_bad_options_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="render_mode"):
        tictactoe_v0.env(render_mode="rgb_array")
    with pytest.raises(ValueError, match="illegal_action"):
        tictactoe_v0.env(illegal_action="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rounds"):
        kuhn_poker_v0.env(rounds=0)
    with pytest.raises(TypeError, match="Game instance"):
        GameEnv("tictactoe")  # type: ignore[arg-type]
    env = kuhn_poker_v0.env()
    with pytest.raises(TypeError, match="seed"):
        env.reset(seed=1.5)  # type: ignore[arg-type]


class _MatchingPenniesState(State):
    """A one-shot simultaneous game, to check that GameEnv refuses simultaneous nodes."""

    def __init__(self, game: Game):
        self.game = game
        self.done = False

    @property
    def current_player(self) -> int:
        return TERMINAL if self.done else SIMULTANEOUS

    def legal_actions(self, player: int | None = None) -> list[int]:
        return [] if self.done else [0, 1]

    def apply_action(self, action: int) -> None:
        raise IllegalAction("simultaneous game")

    def is_terminal(self) -> bool:
        return self.done

    def returns(self) -> np.ndarray:
        return np.zeros(2)

    def clone(self) -> State:
        return self

    def observation_tensor(self, player: int) -> np.ndarray:
        return np.zeros(1, dtype=np.float32)

    def observation_text(self, player: int) -> str:
        return "pennies"

    def action_to_text(self, player: int, action: int) -> str:
        return "heads" if action == 0 else "tails"

    def _set_forfeit(self, returns: np.ndarray) -> None:
        self.done = True


class _MatchingPennies(Game):
    id: ClassVar[str] = "matching_pennies"
    name: ClassVar[str] = "Matching pennies"
    num_players = 2
    num_distinct_actions = 2
    min_return = -1.0
    max_return = 1.0
    max_game_length = 1

    def new_initial_state(self, seed=None, *, explicit_chance=False) -> State:
        return _MatchingPenniesState(self)

    def observation_shape(self, player: int) -> tuple[int, ...]:
        return (1,)


def test_simultaneous_games_are_refused_clearly() -> None:
    env = GameEnv(_MatchingPennies())
    assert env.metadata["name"] == "matching_pennies"
    with pytest.raises(NotImplementedError, match="turn-based games only"):
        env.reset()
