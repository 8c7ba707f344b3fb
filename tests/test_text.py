"""The text env (redqueen.envs.text.TextEnv) and the terminal agent (redqueen.agents.human.HumanAgent)."""

from __future__ import annotations

import io
import random
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redqueen.agents.human import HumanAgent, HumanQuit
from redqueen.answers import InvalidAnswerPolicy
from redqueen.envs.text import TextEnv, TextEnvError
from redqueen.game import SIMULTANEOUS, TERMINAL, Game, RedqueenError, State
from redqueen.registry import make_game

GAMES = [("kuhn_poker", {}), ("kuhn_poker", {"rounds": 3}), ("tictactoe", {})]
GAME_IDS = ["kuhn1", "kuhn3", "tictactoe"]

# ways a model might write a legal move "[m]"
WRAPPINGS = [
    "{}",
    "I will play {}.",
    "Let me think... \\boxed{{{m}}}",
    "  {M}  ",
    "My answer: \\boxed{{\\text{{{m}}}}}",
    "[{m}] hmm, no wait. Final: {}",
]

GARBAGE = [
    "",
    " ",
    "x" * 1_000_000,
    "[" * 100_000,
    "\\boxed{}",
    "\\boxed{",
    "[[[",
    "[]",
    "]]][[[",
    "\x00\udcff\n\t",
    None,
    5,
    3.5,
    b"[bet]",
    ["[bet]"],
    object(),
]


def write_move(move: str, rnd: random.Random) -> str:
    """A reply naming the legal move ``move`` (written like "[bet]") in one of several styles."""
    m = move[1:-1]
    return rnd.choice(WRAPPINGS).format(move, m=m, M=m.upper())


def play_out(env: TextEnv, rnd: random.Random, info: dict) -> tuple[np.ndarray, dict]:
    total = np.zeros(env.num_players)
    while True:
        reply = write_move(rnd.choice(info["legal_moves"]), rnd)
        _text, rewards, terminated, truncated, info = env.step(reply)
        total += rewards
        assert not truncated
        if terminated:
            return total, info
        assert info["invalid"] is False, info["reason"]


# ---- full games ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("game_id", "params"), GAMES, ids=GAME_IDS)
def test_random_text_games_match_engine(game_id, params):
    env = TextEnv(game_id, **params)
    game = make_game(game_id, **params)
    rnd = random.Random(1)
    for seed in range(40):
        text, info = env.reset(seed=seed)
        assert info["player"] == 0 or game_id == "kuhn_poker"
        assert text == env.observe(info["player"])
        assert info["legal_moves"] == env.state.legal_actions_text(info["player"])
        total, info = play_out(env, rnd, info)
        # the same seed and the same actions on a bare engine give the same game
        replay = game.new_initial_state(seed)
        for entry in env.transcript:
            assert entry["player"] == replay.current_player
            replay.apply_action(entry["action"])
        assert replay.is_terminal()
        np.testing.assert_array_equal(replay.returns(), env.state.returns())
        np.testing.assert_array_equal(info["returns"], replay.returns())
        np.testing.assert_array_equal(info["game_returns"], replay.returns())
        np.testing.assert_array_equal(total, replay.returns())
        assert total.sum() == 0.0
        assert info["player"] is None and info["legal_moves"] == [] and info["forfeit"] is None
        assert info["invalid_answers"].tolist() == [0, 0]
        assert all(not e["invalid"] and e["outcome"] == "played" for e in env.transcript)


def test_step_info_describes_the_next_turn():
    env = TextEnv("tictactoe")
    text, info = env.reset(seed=0)
    assert "Your legal moves" in text and info["invalid"] is False and info["reason"] is None
    text, rewards, terminated, truncated, info = env.step("I take the centre: \\boxed{4}")
    assert (terminated, truncated) == (False, False)
    assert rewards.tolist() == [0.0, 0.0]
    assert info["action"] == 4 and info["player"] == 1 and info["invalid"] is False
    assert "[4]" not in info["legal_moves"] and len(info["legal_moves"]) == 8
    assert text == env.observe(1) and "You are Player 1" in text
    assert env.transcript == [
        {
            "player": 0,
            "prompt": env.transcript[0]["prompt"],
            "reply": "I take the centre: \\boxed{4}",
            "action": 4,
            "invalid": False,
            "reason": None,
            "outcome": "played",
        }
    ]
    assert "You are Player 0" in env.transcript[0]["prompt"]


def test_final_text_is_the_last_movers_view():
    env = TextEnv("tictactoe")
    env.reset(seed=0)
    for move in ("[0]", "[3]", "[1]", "[4]"):
        env.step(move)
    text, rewards, terminated, _, _info = env.step("[2]")
    assert terminated and rewards.tolist() == [1.0, -1.0]
    assert "you win" in text and text == env.observe(0)
    assert "you lose" in env.observe(1)
    assert env.current_player is None


# ---- invalid-answer policies ---------------------------------------------------------------------------
@pytest.mark.parametrize(("game_id", "params"), GAMES, ids=GAME_IDS)
@pytest.mark.parametrize("offender_turn", [0, 1])
def test_forfeit_gives_offender_min_return_and_ends(game_id, params, offender_turn):
    env = TextEnv(game_id, **params)
    game = env.game
    _, info = env.reset(seed=3)
    if offender_turn:
        _, _, _, _, info = env.step(info["legal_moves"][0])
    offender = info["player"]
    _text, rewards, terminated, truncated, info = env.step("I raise all in!")
    assert terminated and not truncated
    expected = np.full(2, -game.min_return)
    expected[offender] = game.min_return
    np.testing.assert_array_equal(rewards, expected)
    np.testing.assert_array_equal(info["returns"], expected)
    assert info["forfeit"] == offender and info["invalid"] is True
    assert "not a legal move" in info["reason"] and "Legal moves" in info["reason"]
    assert info["invalid_answers"][offender] == 1 and info["invalid_answers"].sum() == 1
    assert env.transcript[-1]["outcome"] == "forfeit" and env.transcript[-1]["action"] is None
    assert env.state.is_terminal()
    with pytest.raises(TextEnvError, match="game is over"):
        env.step("[bet]")


def test_retry_asks_same_player_with_reason_then_forfeits():
    policy = InvalidAnswerPolicy("retry", max_retries=2, penalty=0.25)
    env = TextEnv("kuhn_poker", invalid=policy)
    first, info = env.reset(seed=0)
    player = info["player"]
    base = env.observe(player)
    assert first == base
    text, rewards, terminated, _, info = env.step("I raise!")
    assert not terminated and info["player"] == player and info["invalid"]
    assert rewards.tolist() == [0.0, 0.0]
    assert text.startswith(base) and "Your previous answer was invalid" in text
    assert info["reason"] in text and "'I raise' is not a legal move" in text
    assert "2 tries left" in text
    assert info["legal_moves"] == ["[check]", "[bet]"]
    assert env.observe(player) == base  # the player's view itself has no retry note
    text, _, terminated, _, info = env.step("\\boxed{}")
    assert not terminated and info["player"] == player
    assert "the answer contains no move" in text and "1 try left" in text
    assert text.count("Your previous answer was invalid") == 1  # notes do not pile up
    _, rewards, terminated, _, info = env.step(12)
    assert terminated and info["forfeit"] == player
    assert info["invalid_answers"][player] == 3
    expected = np.full(2, 2.0)
    expected[player] = -2.0 - 3 * 0.25
    np.testing.assert_allclose(rewards, expected)
    np.testing.assert_allclose(info["returns"], expected)
    np.testing.assert_array_equal(info["game_returns"], [-2.0 if p == player else 2.0 for p in range(2)])
    assert [e["outcome"] for e in env.transcript] == ["retry", "retry", "forfeit"]
    assert "expected a text answer, got int" in env.transcript[-1]["reason"]


def test_retry_recovers_and_penalty_comes_off_the_final_reward():
    env = TextEnv("tictactoe", invalid=InvalidAnswerPolicy("retry", max_retries=1, penalty=0.5))
    env.reset(seed=0)
    _, _, _, _, info = env.step("cell 9")  # player 0, invalid
    assert info["player"] == 0 and "cell 9" in info["reason"]
    _, _, _, _, info = env.step("[0]")
    assert info["player"] == 1 and info["action"] == 0
    _, _, _, _, info = env.step("[0]")  # player 1: taken
    assert info["player"] == 1 and "already taken" in info["reason"]
    _, _, _, _, info = env.step("[3]")
    # a valid move resets the run of invalid answers: player 0 may fail once more without forfeiting
    _, _, terminated, _, info = env.step("nope")
    assert not terminated and info["player"] == 0
    total = np.zeros(2)
    for move in ("[1]", "[4]", "[2]"):
        _, rewards, terminated, _, info = env.step(move)
        total += rewards
    assert terminated and info["forfeit"] is None
    np.testing.assert_array_equal(info["game_returns"], [1.0, -1.0])
    np.testing.assert_allclose(total, [1.0 - 2 * 0.5, -1.0 - 0.5])
    assert info["invalid_answers"].tolist() == [2, 1]
    np.testing.assert_allclose(env.penalties, [1.0, 0.5])


def test_retry_with_zero_retries_forfeits_at_once():
    env = TextEnv("tictactoe", invalid=InvalidAnswerPolicy("retry", max_retries=0, penalty=1.0))
    env.reset(seed=0)
    _, rewards, terminated, _, info = env.step("??")
    assert terminated and info["forfeit"] == 0
    np.testing.assert_allclose(rewards, [-2.0, 1.0])


@pytest.mark.parametrize(("game_id", "params"), GAMES, ids=GAME_IDS)
def test_random_policy_plays_a_legal_move(game_id, params):
    env = TextEnv(game_id, invalid="random", **params)
    game = make_game(game_id, **params)
    seen = set()
    for seed in range(25):
        _, info = env.reset(seed=seed)
        counts = np.zeros(2, dtype=int)
        while True:
            player = info["player"]
            legal = env.state.legal_actions(player)
            played = len(env.state.history())
            _, _, terminated, _, info = env.step("\\boxed{pass the salt}")
            counts[player] += 1
            assert info["invalid"] and info["action"] in legal
            assert env.transcript[-1]["outcome"] == "random"
            assert env.transcript[-1]["action"] == info["action"]
            seen.add(info["action"])
            assert env.state.history()[played] == info["action"]
            if terminated:
                break
            assert info["player"] == env.state.current_player
        assert info["forfeit"] is None
        np.testing.assert_array_equal(info["invalid_answers"], counts)
        np.testing.assert_array_equal(info["returns"], env.state.returns())
    assert len(seen) == game.num_distinct_actions  # every action turns up as a substitute


def test_random_policy_does_not_change_the_deal():
    """The substitutes come from their own stream: a seed deals the same cards whatever is answered."""

    def cards_by_hand(env: TextEnv, replies) -> dict[int, list[int]]:
        _, info = env.reset(seed=11)
        dealt = {}
        done = False
        while not done:
            dealt[env.state.hand] = list(env.state.cards)
            _, _, done, _, info = env.step(replies(info))
        return dealt

    rnd = random.Random(0)
    garbage = cards_by_hand(TextEnv("kuhn_poker", invalid="random", rounds=6), lambda info: "junk")
    legal = cards_by_hand(TextEnv("kuhn_poker", rounds=6), lambda info: rnd.choice(info["legal_moves"]))
    assert garbage == legal and len(legal) == 6


def test_invalid_answers_counted_per_player():
    env = TextEnv("tictactoe", invalid="retry")
    env.reset(seed=0)
    for reply, who in [("x", 0), ("[0]", 0), ("[0]", 1), ("y", 1), ("[4]", 1), ("z", 0)]:
        assert env.current_player == who
        _, _, _, _, info = env.step(reply)
    assert info["invalid_answers"].tolist() == [2, 2]
    assert env.invalid_answers.tolist() == [2, 2]
    assert not info["invalid_answers"].flags.writeable
    env.reset()
    assert env.invalid_answers.tolist() == [0, 0]


@pytest.mark.parametrize("mode", ["forfeit", "retry", "random"])
@pytest.mark.parametrize(("game_id", "params"), GAMES, ids=GAME_IDS)
def test_garbage_replies_never_crash(game_id, params, mode):
    env = TextEnv(game_id, invalid=mode, **params)
    for k, reply in enumerate(GARBAGE):
        _, info = env.reset(seed=k)
        player = info["player"]
        text, rewards, terminated, _truncated, info = env.step(reply)
        assert info["invalid"] is True and isinstance(info["reason"], str) and info["reason"]
        assert len(info["reason"]) < 1000  # a huge reply is not echoed whole
        assert rewards.shape == (2,) and isinstance(text, str)
        assert info["invalid_answers"][player] == 1
        assert env.transcript[-1]["reply"] is reply
        if mode == "forfeit":
            assert terminated and info["forfeit"] == player
        elif mode == "retry":
            assert not terminated and info["player"] == player and info["reason"] in text
        else:
            assert info["action"] is not None


def test_wrong_types_and_order_errors():
    with pytest.raises(ValueError, match="invalid-answer policy must be one of"):
        TextEnv("kuhn_poker", invalid="shrug")
    with pytest.raises(TypeError, match="InvalidAnswerPolicy"):
        TextEnv("kuhn_poker", invalid=3)
    with pytest.raises(ValueError, match="unknown game 'kuhn'"):
        TextEnv("kuhn")
    with pytest.raises(ValueError, match="rounds must be a positive integer"):
        TextEnv("kuhn_poker", rounds=0)
    with pytest.raises(TypeError, match="only be given with a game id"):
        TextEnv(make_game("kuhn_poker"), rounds=2)
    assert TextEnv("kuhn_poker", rounds=3).game.rounds == 3
    env = TextEnv("kuhn_poker")
    for call in (lambda: env.step("[bet]"), lambda: env.observe(0), lambda: env.state):
        with pytest.raises(TextEnvError, match=r"before reset\(\)"):
            call()
    with pytest.raises(TypeError, match="seed must be an int"):
        env.reset(seed="7")
    with pytest.raises(ValueError, match="seed must be >= 0"):
        env.reset(seed=-1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"player must be in 0\.\.1"):
        env.observe(2)
    with pytest.raises(TypeError, match="player must be an int"):
        env.observe("0")
    env.close()
    with pytest.raises(TextEnvError, match="closed"):
        env.step("[bet]")
    with pytest.raises(TextEnvError, match="closed"):
        env.reset()


# ---- seeding and transcripts ---------------------------------------------------------------------------
def _deals(env: TextEnv, n: int, seed: int | None) -> list[list[int]]:
    out = []
    for k in range(n):
        _, _info = env.reset(seed=seed if k == 0 else None)
        out.append(env.state.history())
    return out


def test_same_seed_same_game_and_reset_continues_the_stream():
    a, b = TextEnv("kuhn_poker", rounds=3), TextEnv("kuhn_poker", rounds=3)
    deals_a, deals_b = _deals(a, 12, seed=5), _deals(b, 12, seed=5)
    assert deals_a == deals_b
    assert len({tuple(d) for d in deals_a}) > 1  # reset() without a seed deals on, not the same again
    assert _deals(a, 12, seed=6) != deals_a
    # the seed deals the cards game.new_initial_state(seed) deals
    a.reset(seed=9)
    assert a.state.history() == make_game("kuhn_poker", rounds=3).new_initial_state(9).history()


def test_same_seed_same_prompts_and_rewards():
    def run(seed: int) -> list:
        env = TextEnv("kuhn_poker", invalid="random", rounds=2)
        text, info = env.reset(seed=seed)
        log = [text]
        rnd = random.Random(3)
        done = False
        while not done:
            reply = rnd.choice([*info["legal_moves"], "junk"])
            text, rewards, done, _, info = env.step(reply)
            log += [text, rewards.tolist(), info["action"]]
        return log

    assert run(4) == run(4)


def test_transcript_is_cleared_on_reset():
    env = TextEnv("kuhn_poker", rounds=2)
    _, info = env.reset(seed=0)
    env.step(info["legal_moves"][0])
    old = env.transcript
    assert len(old) == 1
    text, _ = env.reset(seed=0)
    assert env.transcript == [] and len(old) == 1
    assert "Hands played: 0 of 2" in text  # no history of the previous game in the new prompt
    assert text.count("You are Player") == 1


# ---- simultaneous moves --------------------------------------------------------------------------------
class PenniesState(State):
    """Matching pennies: both players pick heads or tails at once; player 0 wins on a match."""

    def __init__(self, game: Pennies):
        self.game = game
        self.moves: dict[int, int] | None = None
        self._forfeit: np.ndarray | None = None

    @property
    def current_player(self) -> int:
        return TERMINAL if self.is_terminal() else SIMULTANEOUS

    def legal_actions(self, player=None):
        return [] if self.is_terminal() or player is None else [0, 1]

    def apply_action(self, action):
        raise NotImplementedError

    def apply_actions(self, actions):
        assert sorted(actions) == [0, 1]
        self.moves = dict(actions)

    def is_terminal(self):
        return self.moves is not None or self._forfeit is not None

    def returns(self):
        if self._forfeit is not None:
            return self._forfeit
        if self.moves is None:
            return np.zeros(2)
        win = 1.0 if self.moves[0] == self.moves[1] else -1.0
        return np.array([win, -win])

    def clone(self):
        raise NotImplementedError

    def observation_tensor(self, player):
        return np.zeros(1, dtype=np.float32)

    def action_to_text(self, player, action):
        return ("heads", "tails")[action]

    def observation_text(self, player):
        return f"Player {player}: heads or tails?"

    def _set_forfeit(self, returns):
        self._forfeit = returns


class Pennies(Game):
    id: ClassVar[str] = "pennies"
    name: ClassVar[str] = "Matching pennies"
    num_players = 2
    num_distinct_actions = 2
    min_return = -1.0
    max_return = 1.0
    max_game_length = 2

    def new_initial_state(self, seed=None, *, explicit_chance=False):
        return PenniesState(self)

    def observation_shape(self, player):
        return (1,)


def test_simultaneous_moves_are_asked_one_player_at_a_time():
    env = TextEnv(Pennies())
    text, info = env.reset(seed=0)
    assert info["player"] == 0 and text == "Player 0: heads or tails?"
    text, _, terminated, _, info = env.step("[tails]")
    assert not terminated and info["player"] == 1 and text == "Player 1: heads or tails?"
    assert env.state.moves is None  # nothing applied before everyone answered
    _, rewards, terminated, _, info = env.step("\\boxed{TAILS}")
    assert terminated and env.state.moves == {0: 1, 1: 1}
    np.testing.assert_array_equal(rewards, [1.0, -1.0])
    env.reset()
    env.step("[heads]")
    _, rewards, terminated, _, info = env.step("[edge]")
    assert terminated and info["forfeit"] == 1 and env.state.moves is None
    np.testing.assert_array_equal(rewards, [1.0, -1.0])


# ---- property test -------------------------------------------------------------------------------------
REPLIES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["[check]", "[bet]", "[fold]", "[call]", "[4]", "\\boxed{0}", "bet", "pass", "[[", "}"]),
    st.builds(lambda a, b: f"{a}\\boxed{{{b}}}", st.text(max_size=20), st.text(max_size=10)),
    st.builds(lambda a, b: f"{a}[{b}]", st.text(max_size=20), st.text(max_size=10)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    game=st.sampled_from(["kuhn_poker", "tictactoe"]),
    mode=st.sampled_from(["forfeit", "retry", "random"]),
    seed=st.integers(0, 2**32),
    replies=st.lists(REPLIES, min_size=1, max_size=25),
)
def test_any_text_reply_gives_a_valid_step(game, mode, seed, replies):
    env = TextEnv(game, invalid=InvalidAnswerPolicy(mode, max_retries=2, penalty=0.1))
    _, info = env.reset(seed=seed)
    total = np.zeros(2)
    invalid = 0
    for reply in replies:
        player = info["player"]
        text, rewards, terminated, truncated, info = env.step(reply)
        total += rewards
        assert isinstance(text, str) and text
        assert truncated is False and isinstance(terminated, bool)
        assert isinstance(info["invalid"], bool)
        assert (info["reason"] is None) == (not info["invalid"])
        invalid += info["invalid"]
        assert info["invalid_answers"].sum() == invalid
        assert env.transcript[-1]["player"] == player
        if info["action"] is not None:
            assert info["action"] in range(env.game.num_distinct_actions)
        if terminated:
            np.testing.assert_allclose(total, env.state.returns() - env.penalties)
            assert env.state.returns().sum() == 0.0
            break
        assert info["player"] == env.state.current_player
        assert info["legal_moves"] == env.state.legal_actions_text(info["player"])
        assert rewards.tolist() == [0.0, 0.0]


# ---- HumanAgent ----------------------------------------------------------------------------------------
def scripted(*lines: str):
    it = iter(lines)

    def input_fn(prompt: str) -> str:
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None

    return input_fn


def test_human_reasks_until_a_legal_move():
    out = io.StringIO()
    agent = HumanAgent(input_fn=scripted("raise", "", "  BET "), output=out)
    assert agent.view == "text" and agent.name == "human"
    obs = {"text": "Your card: K", "legal_moves": ["[check]", "[bet]"], "player": 0}
    assert agent.act(obs) == "[bet]"
    shown = out.getvalue()
    assert shown.startswith("Your card: K\n")
    assert "'raise' is not a legal move. Legal moves: [check], [bet]" in shown
    assert "no move was typed" in shown


@pytest.mark.parametrize("typed", ["[4]", "4", " \\boxed{4} ", "[ 4 ]"])
def test_human_accepts_brackets_or_not(typed):
    agent = HumanAgent(input_fn=scripted(typed), output=io.StringIO())
    assert agent.act({"text": "board", "legal_moves": ["[0]", "[4]"]}) == "[4]"


def test_human_eof_and_interrupt():
    agent = HumanAgent(name="alice", input_fn=scripted("nope"), output=io.StringIO())
    with pytest.raises(HumanQuit, match="alice: the input ended") as err:
        agent.act({"text": "t", "legal_moves": ["[bet]"]})
    assert isinstance(err.value, RedqueenError)

    def interrupt(prompt: str) -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        HumanAgent(input_fn=interrupt, output=io.StringIO()).act({"text": "t", "legal_moves": ["[bet]"]})


def test_human_bad_observation():
    agent = HumanAgent(input_fn=scripted("[bet]"), output=io.StringIO())
    with pytest.raises(ValueError, match="'text' and 'legal_moves'"):
        agent.act({"observation": np.zeros(3)})
    with pytest.raises(ValueError, match="no legal move"):
        agent.act({"text": "t", "legal_moves": []})
    with pytest.raises(TypeError, match="input_fn must be callable"):
        HumanAgent(input_fn="yes")


def test_human_plays_a_text_env_game():
    env = TextEnv("tictactoe")
    text, info = env.reset(seed=0)
    out = io.StringIO()
    # X: 0, 1, 2 (the top row); O answers 3 and 4
    agent = HumanAgent(input_fn=scripted("9", "[0]", "3", "one", "1", "[4]", "2"), output=out)
    done = False
    while not done:
        move = agent.act({"text": text, "legal_moves": info["legal_moves"]})
        text, rewards, done, _, info = env.step(move)
        assert not info["invalid"]
    np.testing.assert_array_equal(rewards, [1.0, -1.0])
    assert out.getvalue().count("is not a legal move") == 2
