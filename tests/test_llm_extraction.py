"""Reading moves out of language-model replies: recorded replies of Gemma 3 270M (written by the model
in this project's runs, see benchmarks/llm_play.py) and adversarial ones, through the same path a
match takes (LLMAgent -> match runner -> ``parse_action``), and the prompt templates."""

from __future__ import annotations

import time

import pytest

from redqueen.agents import RandomAgent
from redqueen.agents.llm import DIRECT, TEMPLATES, Generation, LLMAgent, PromptTemplate
from redqueen.game import IllegalAction, extract_answer
from redqueen.match import play
from redqueen.registry import make_game

# (reply, the move it names at the start of a TicTacToe game, or None for an invalid answer)
TICTACTOE = [
    # recorded from Gemma 3 270M (completion mode)
    ("\\boxed{5}\n  \\texttt{http", "5"),
    ("\\boxed{3}.\n\nAnswer with the move only", "3"),
    ("\\boxed{4}.\n\nAnswer: \\boxed{", "4"),  # an unclosed last box is no answer; the closed one is
    (" [1] (the board is full, the game has ended, 2 players are at the front)", "1"),
    (" 2, 3, 4, 5, 6, 7, 8.\n\nYour legal moves: 2, 3, 4, 5, 6, 7, 8. Put", None),  # an echo
    (" 3, 4, 5.\nYour legal moves: 3, 4, 5. Put your final answer within \\boxed{}.\n", None),
    (" [1] - [2] - [3] - [4] - [5] - [6] - [7]", "7"),  # the last bracket counts
    ("\\boxed{0} in \\boxed{X}", None),  # the last box names no cell
    # adversarial
    ("\\boxed{4} no wait \\boxed{8}", "8"),  # several boxes: the last one
    ("I think [2] is best, so \\boxed{6}", "6"),  # a box beats brackets
    ("", None),
    ("   \n\t ", None),
    ("I have no idea.", None),
    ("\\boxed{9}", None),  # not a cell
    ("\\boxed{-1}", None),
    ("\\boxed{４}", "4"),  # a full-width digit
    ("\\boxed{𝟒}", "4"),  # a mathematical bold digit
    ("Je joue la case 4 ✅", "4"),  # a short unmarked reply may name its move anywhere
    ("\\boxed{\\text{4}}", "4"),
    ("\\boxed{[4]}", "4"),
    ("\\boxed{ 4 }", "4"),
    ("\x00\x01\\boxed{2}\x7f", "2"),
    ("I won't play 4.", None),  # a negated short reply names no move
]

# (reply, the move it names for the first Kuhn poker player, who may check or bet)
KUHN = [
    ("\\boxed{check}.\nAnswer: \\boxed{", "check"),  # recorded
    ("\\boxed{Q}.\nThe pot is yours.", None),  # recorded: names its card, not a move
    ("\\boxed{2 chips} (K).\n\nYour", None),  # recorded
    (" [check], [bet].\n\nYour legal moves: [che", "bet"),  # recorded: an echo ends on the last one
    ("\\boxed{fold}", None),  # fold is not legal before a bet
    ("\\boxed{BET}", "bet"),
    ("\\boxed{ Bet. }", "bet"),
    ("\\boxed{“bet”}", "bet"),
    ("I'll bet!", "bet"),
]


def _first_state(game_id: str):
    return make_game(game_id).new_initial_state(0)


@pytest.mark.parametrize(("reply", "move"), TICTACTOE)
def test_tictactoe_replies(reply, move):
    _check(_first_state("tictactoe"), reply, move)


@pytest.mark.parametrize(("reply", "move"), KUHN)
def test_kuhn_replies(reply, move):
    _check(_first_state("kuhn_poker"), reply, move)


def _check(state, reply, move):
    player = state.current_player
    if move is None:
        with pytest.raises(IllegalAction) as err:
            state.parse_action(player, reply)
        assert "Legal moves:" in str(err.value)  # the reason names what would have been legal
    else:
        action = state.parse_action(player, reply)
        assert state.action_to_text(player, action).strip("[]") == move


def test_a_100_kb_reply_is_read_quickly():
    state = _first_state("tictactoe")
    reply = "Thinking... " * 8_000 + "\\boxed{4}"  # about 100 KB
    assert len(reply) > 95_000
    started = time.perf_counter()
    for _ in range(20):
        assert state.action_to_text(0, state.parse_action(0, reply)) == "4"
        with pytest.raises(IllegalAction):
            state.parse_action(0, "\\boxed{" * 20_000 + "}" * 10)  # nested and unclosed: no answer
    assert time.perf_counter() - started < 5  # linear scans, no backtracking blow-up


class Canned:
    """A backend answering recorded replies in order."""

    def __init__(self, replies, mode="completion"):
        self.replies, self.mode, self.prompts = list(replies), mode, []

    def generate(self, prompt, n=1, seed=None):
        self.prompts.append(prompt)
        return [Generation(self.replies.pop(0)) for _ in range(n)]


def test_recorded_replies_through_a_match_keep_every_raw_reply():
    replies = [r for r, _ in TICTACTOE]
    backend = Canned(replies * 3)
    agent = LLMAgent(backend, name="gemma")
    result = play("tictactoe", [agent, RandomAgent()], n_games=3, seed=0, transcript=True, invalid="random")
    mine = [t for game in result.transcripts for t in game if t["agent"] == "gemma"]
    assert [t["reply"] for t in mine] == (replies * 3)[: len(mine)]
    for t in mine:  # an invalid answer keeps its reason and is replaced by a random legal move
        assert t["invalid"] == (t["outcome"] == "random") and (t["reason"] is not None) == t["invalid"]
    assert result.invalid_answers[0] == sum(t["invalid"] for t in mine) > 0


def test_direct_template_prefills_the_box_and_reads_it_back():
    backend = Canned(["4} because the centre is strong"])
    agent = LLMAgent(backend, DIRECT)
    state = _first_state("tictactoe")
    from redqueen.game import agent_observation

    reply = agent.act(agent_observation(state, 0, "text"))
    assert backend.prompts[0].endswith("Answer: \\boxed{") and reply.startswith("\\boxed{4}")
    assert extract_answer(reply) == "4"
    # in chat mode there is no prefill: the reply is read as it is
    chat = LLMAgent(Canned(["4}"], mode="chat"), DIRECT)
    assert chat.act(agent_observation(state, 0, "text")) == "4}"
    assert set(TEMPLATES) == {"spiral", "direct"}


def test_templates_are_overridable_and_checked():
    obs = {"text": "Board.", "legal_moves": ["[0]", "[4]"], "game_id": "tictactoe"}
    custom = PromptTemplate(system=None, user="{game_id}: {observation} Moves: {legal_moves}.")
    assert custom.messages(obs) == [{"role": "user", "content": "tictactoe: Board. Moves: 0, 4."}]
    assert custom.completion(obs).startswith("tictactoe: Board. Moves: 0, 4.")
    assert "\\boxed{0}" in PromptTemplate().system_text(obs)  # the example uses a legal move
    with pytest.raises(ValueError, match="cannot be filled"):
        PromptTemplate(system="{missing}").messages(obs)
