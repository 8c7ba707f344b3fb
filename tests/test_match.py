"""redqueen.play and MatchResult."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from redqueen import MatchResult, make_game, play
from redqueen.agents import Agent, MinimaxAgent, RandomAgent
from redqueen.answers import InvalidAnswerPolicy


class GarbageAgent(Agent):
    """A text agent whose first ``bad`` answers of every game are no move at all."""

    name = "garbage"
    view = "text"

    def __init__(self, bad: int = 10**9, name: str | None = None):
        super().__init__(name)
        self.bad = bad
        self.calls = 0
        self.prompts: list[str] = []

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.calls = 0

    def act(self, observation: Mapping[str, Any]) -> str:
        self.calls += 1
        self.prompts.append(observation["text"])
        if self.calls <= self.bad:
            return "I would rather talk about the weather."
        return f"My answer: {observation['legal_moves'][0]}"


class FixedAgent(Agent):
    """A tensor agent that always answers the same action index."""

    def __init__(self, action: Any, name: str = "fixed"):
        super().__init__(name)
        self.action = action

    def act(self, observation: Mapping[str, Any]) -> Any:
        return self.action


class BrokenAgent(Agent):
    name = "broken"

    def act(self, observation: Mapping[str, Any]) -> int:
        raise RuntimeError("boom")


def test_same_seed_same_games_and_different_seed_different_games():
    a = play("kuhn_poker", ["random", "random"], n_games=60, seed=7)
    b = play("kuhn_poker", ["random", "random"], n_games=60, seed=7)
    c = play("kuhn_poker", ["random", "random"], n_games=60, seed=8)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_array_equal(a.invalid_per_game, b.invalid_per_game)
    np.testing.assert_array_equal(a.lengths, b.lengths)
    assert a.seeds == b.seeds and a.seed == 7
    assert a.seeds != c.seeds
    assert not np.array_equal(a.returns, c.returns)


def test_game_k_does_not_depend_on_the_number_of_games():
    text = RandomAgent(view="text")
    long = play("kuhn_poker", [text, "random"], n_games=20, seed=3)
    short = play("kuhn_poker", [text, "random"], n_games=8, seed=3)
    np.testing.assert_array_equal(long.returns[:8], short.returns)
    assert long.seeds[:8] == short.seeds


def test_no_seed_draws_and_records_one():
    result = play("kuhn_poker", ["random", "random"], n_games=5)
    again = play("kuhn_poker", ["random", "random"], n_games=5, seed=result.seed)
    np.testing.assert_array_equal(result.returns, again.returns)


def test_shapes_and_zero_sum():
    result = play("kuhn_poker", ["random", "random"], n_games=25, seed=1, rounds=3)
    assert isinstance(result, MatchResult)
    assert result.returns.shape == (25, 2) and result.returns.dtype == np.float64
    assert result.invalid_per_game.shape == (25, 2)
    assert result.invalid_answers.shape == (2,)
    assert result.lengths.shape == (25,) and (result.lengths >= 6).all()  # 3 hands of 2-3 decisions
    assert len(result.seeds) == 25
    np.testing.assert_allclose(result.returns.sum(axis=1), 0.0)
    assert (result.wins + result.draws + result.losses == 25).all()


def test_text_and_tensor_agents_share_a_table():
    for game in ("kuhn_poker", "tictactoe"):
        result = play(game, [RandomAgent(view="text"), RandomAgent()], n_games=20, seed=2, transcript=True)
        assert (result.invalid_answers == 0).all()
        assert (result.lengths > 0).all()
        np.testing.assert_allclose(result.returns.sum(axis=1), 0.0)
        turns = result.transcripts[0]
        assert len(turns) == result.lengths[0]
        text_turn = next(t for t in turns if t["player"] == 0)
        tensor_turn = next(t for t in turns if t["player"] == 1)
        assert "You are Player 0" in text_turn["observation"] and text_turn["reply"].startswith("[")
        assert tensor_turn["observation"] is None and isinstance(tensor_turn["reply"], int)
        assert all(t["outcome"] == "played" and t["action"] is not None for t in turns)


def test_garbage_text_answer_forfeits():
    for game, seat in (("tictactoe", 0), ("kuhn_poker", 1)):
        agents: list[Any] = ["random", "random"]
        agents[seat] = GarbageAgent()
        result = play(game, agents, n_games=10, seed=0, transcript=True)
        min_return = make_game(game).min_return
        assert (result.returns[:, seat] == min_return).all()
        assert (result.returns[:, 1 - seat] == -min_return).all()
        assert result.invalid_answers[seat] == 10 and result.invalid_answers[1 - seat] == 0
        assert (result.invalid_per_game[:, seat] == 1).all()
        assert (result.losses[seat], result.wins[1 - seat]) == (10, 10)
        last = result.transcripts[0][-1]
        assert last["invalid"] and last["outcome"] == "forfeit" and last["action"] is None
        assert "not a legal move" in last["reason"]
    assert (result.lengths == 1).all()  # Kuhn: seat 0 moved once, then seat 1 forfeited


def test_retry_asks_again_with_the_reason_and_applies_the_penalty():
    garbage = GarbageAgent(bad=2)
    policy = InvalidAnswerPolicy("retry", max_retries=2, penalty=0.25)
    result = play("tictactoe", [garbage, MinimaxAgent()], n_games=3, seed=0, invalid=policy)
    assert (result.invalid_per_game[:, 0] == 2).all() and (result.invalid_per_game[:, 1] == 0).all()
    assert (result.lengths >= 5).all()  # the games went on
    # X plays the first legal cell each turn, minimax (O) never loses: garbage's return is -1 or 0, minus 0.5
    assert set(result.returns[:, 0]) <= {-1.5, -0.5}
    np.testing.assert_allclose(result.returns[:, 0] + 0.5, -result.returns[:, 1])
    first, second, third = garbage.prompts[:3]
    assert "previous answer was invalid" not in first
    assert second.startswith(first) and "previous answer was invalid" in second and "2 tries left" in second
    assert third.startswith(first) and "1 try left" in third
    assert "not a legal move" in third
    assert third.count("previous answer was invalid") == 1, "only the latest reason is shown"


def test_retry_forfeits_after_the_last_retry():
    policy = InvalidAnswerPolicy("retry", max_retries=2, penalty=0.5)
    result = play(
        "tictactoe", [GarbageAgent(bad=3), "random"], n_games=2, seed=0, invalid=policy, transcript=True
    )
    assert (result.invalid_per_game[:, 0] == 3).all()
    np.testing.assert_allclose(result.returns, [[-2.5, 1.0], [-2.5, 1.0]])
    outcomes = [t["outcome"] for t in result.transcripts[0]]
    assert outcomes == ["retry", "retry", "forfeit"]


def test_random_policy_plays_a_legal_move_for_the_offender():
    result = play(
        "tictactoe", [GarbageAgent(), "random"], n_games=10, seed=4, invalid="random", transcript=True
    )
    x_moves = (result.lengths + 1) // 2  # X moves first
    np.testing.assert_array_equal(result.invalid_per_game[:, 0], x_moves)
    assert (result.lengths >= 5).all()
    np.testing.assert_allclose(result.returns.sum(axis=1), 0.0)
    garbage_turns = [t for game in result.transcripts for t in game if t["player"] == 0]
    assert all(t["outcome"] == "random" and t["invalid"] and t["action"] is not None for t in garbage_turns)
    again = play("tictactoe", [GarbageAgent(), "random"], n_games=10, seed=4, invalid="random")
    np.testing.assert_array_equal(result.returns, again.returns)


def test_illegal_tensor_answers_are_invalid():
    # always cell 4: legal once, then taken
    result = play("tictactoe", [FixedAgent(4), "random"], n_games=5, seed=0, transcript=True)
    assert (result.returns[:, 0] == -1).all() and (result.invalid_per_game[:, 0] == 1).all()
    assert (result.lengths == 2).all()
    last = result.transcripts[0][-1]
    assert last["reply"] == 4 and last["reason"].startswith("cell 4 is already taken")
    # not an index at all, or out of range
    for bad in ("4", 9, True, 2.0):
        result = play("tictactoe", [FixedAgent(bad), "random"], n_games=1, seed=0, transcript=True)
        assert result.invalid_answers[0] == 1 and result.returns[0, 0] == -1
    assert (
        "is not a cell"
        in play("tictactoe", [FixedAgent(9), "random"], seed=0, transcript=True).transcripts[0][0]["reason"]
    )
    # numpy integers are fine
    result = play("kuhn_poker", [FixedAgent(np.int64(1)), FixedAgent(np.int8(0))], n_games=3, seed=0)
    assert (result.invalid_answers == 0).all()


def test_wrong_agents_are_rejected_clearly():
    with pytest.raises(ValueError, match="give 2 agents"):
        play("tictactoe", ["minimax"])
    with pytest.raises(ValueError, match="give 2 agents"):
        play("kuhn_poker", ["random", "random", "random"])
    with pytest.raises(TypeError, match=r"agents\[1\]"):
        play("kuhn_poker", ["random", 3])
    with pytest.raises(TypeError, match="one Agent"):
        play("kuhn_poker", "random")
    with pytest.raises(ValueError, match="unknown agent"):
        play("kuhn_poker", ["random", "alphago"])
    with pytest.raises(ValueError, match="not defined for 'kuhn_poker'"):
        play("kuhn_poker", ["random", "minimax"])


def test_other_bad_arguments_are_rejected_clearly():
    with pytest.raises(ValueError, match="unknown game"):
        play("chess", ["random", "random"])
    with pytest.raises(ValueError, match="n_games"):
        play("kuhn_poker", ["random", "random"], n_games=0)
    with pytest.raises(TypeError, match="n_games"):
        play("kuhn_poker", ["random", "random"], n_games=2.5)
    with pytest.raises(TypeError, match="seed"):
        play("kuhn_poker", ["random", "random"], seed="x")
    with pytest.raises(ValueError, match="invalid-answer policy"):
        play("kuhn_poker", ["random", "random"], invalid="ignore")
    with pytest.raises(TypeError, match="Game instance"):
        play(make_game("kuhn_poker"), ["random", "random"], rounds=2)


def test_agent_errors_propagate_with_the_game_and_agent_named():
    with pytest.raises(RuntimeError, match="boom") as info:
        play("tictactoe", ["random", BrokenAgent()], n_games=3, seed=0)
    notes = " ".join(getattr(info.value, "__notes__", []))
    assert "'broken'" in notes and "game 0" in notes and "seat 1" in notes


def test_swap_seats_reports_by_agent():
    result = play(
        "tictactoe", [MinimaxAgent(), RandomAgent()], n_games=40, seed=5, swap_seats=True, transcript=True
    )
    np.testing.assert_array_equal(result.seatings[:4], [[0, 1], [1, 0], [0, 1], [1, 0]])
    assert (result.returns[:, 0] >= 0).all() and result.wins[0] > 20
    assert result.transcripts[0][0]["agent"] == "minimax" and result.transcripts[1][0]["agent"] == "random"
    # both seatings of a pair replay the same game seed (duplicate format)
    assert result.seeds[0] == result.seeds[1] and result.seeds[2] == result.seeds[3]
    assert result.seeds[0] != result.seeds[2]


def test_swap_seats_bookkeeping_in_an_asymmetric_game():
    # Kuhn poker: a player that always bets beats one that always passes by 1 chip from either seat
    bettor, passer = FixedAgent(1, "bettor"), FixedAgent(0, "passer")
    result = play("kuhn_poker", [bettor, passer], n_games=6, seed=0, swap_seats=True)
    np.testing.assert_array_equal(result.returns, np.tile([1.0, -1.0], (6, 1)))
    np.testing.assert_array_equal(result.lengths, [2, 3] * 3)  # "bp" when the bettor opens, else "pbp"
    plain = play("kuhn_poker", [bettor, passer], n_games=6, seed=0)
    np.testing.assert_array_equal(plain.lengths, [2] * 6)


def test_same_agent_in_both_seats_gets_distinct_names():
    agent = RandomAgent()
    result = play("kuhn_poker", [agent, agent], n_games=4, seed=0)
    assert result.agent_names == ["random#0", "random#1"]


def test_summary_and_to_dict():
    result = play("tictactoe", ["minimax", "random"], n_games=6, seed=0, transcript=True)
    text = result.summary()
    assert "tictactoe: 6 games" in text and "minimax" in text and "random" in text
    assert f"W {result.wins[0]}" in text
    data = json.loads(json.dumps(result.to_dict()))
    assert data["game_id"] == "tictactoe" and data["agent_names"] == ["minimax", "random"]
    assert data["returns"] == result.returns.tolist() and data["seeds"] == result.seeds
    assert len(data["transcripts"]) == 6
    assert data["mean_returns"] == pytest.approx(result.mean_returns.tolist())


def test_wins_draws_losses_and_ties():
    result = play("tictactoe", ["minimax", "minimax"], n_games=3, seed=0)
    assert (result.draws == 3).all() and (result.wins == 0).all() and (result.losses == 0).all()
    np.testing.assert_array_equal(result.mean_returns, [0.0, 0.0])


def test_progress_bar_and_game_end_callback():
    seen = []
    result = play(
        "kuhn_poker",
        ["random", "random"],
        n_games=4,
        seed=0,
        progress=True,
        on_game_end=lambda k, state, returns: seen.append((k, state.is_terminal(), returns.tolist())),
    )
    assert seen == [(k, True, result.returns[k].tolist()) for k in range(4)]


def test_runner_and_text_env_show_the_same_retry_prompts():
    from redqueen.envs.text import TextEnv

    policy = InvalidAnswerPolicy("retry", max_retries=2)
    garbage = GarbageAgent(bad=2)
    play("tictactoe", [garbage, MinimaxAgent()], n_games=1, seed=0, invalid=policy)
    env = TextEnv("tictactoe", invalid=policy)
    text, _ = env.reset(seed=0)
    seen = [text]
    for _ in range(2):
        text, *_ = env.step("I would rather talk about the weather.")
        seen.append(text)
    assert seen == garbage.prompts[:3]


def test_a_bool_is_not_a_seed():
    with pytest.raises(TypeError, match="seed"):
        play("tictactoe", ["random", "random"], seed=True)


def test_policy_arguments_are_checked():
    for kwargs in ({"max_retries": None}, {"max_retries": 1.5}, {"penalty": "1"}, {"max_retries": True}):
        with pytest.raises(TypeError):
            InvalidAnswerPolicy("retry", **kwargs)


@pytest.mark.parametrize(
    ("game", "specs"), [("kuhn_poker", ["random", "cfr"]), ("tictactoe", ["random", "minimax"])]
)
def test_concurrent_games_give_the_same_results(game, specs):
    from redqueen.match import play

    one = play(game, specs, n_games=40, seed=3, swap_seats=True, transcript=True)
    many = play(game, specs, n_games=40, seed=3, swap_seats=True, transcript=True, concurrency=4)
    assert np.array_equal(one.returns, many.returns) and np.array_equal(one.lengths, many.lengths)
    assert one.transcripts == many.transcripts
    with pytest.raises(ValueError, match="concurrency"):
        play(game, specs, n_games=2, concurrency=0)
