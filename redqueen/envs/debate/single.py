"""The single-agent Gymnasium views of ``redqueen/Debate-v0`` and ``redqueen/TextDebate-v0``.

``gym.make("redqueen/Debate-v0")`` makes a :class:`DebateEnv`: a
:class:`~redqueen.envs.single.SingleAgentEnv` on the pixel debate (k = 6 on the 8x8 digits, the
shipped judge) in which the learner is the honest debater (seat 0; ``seat=1`` plays the liar,
``seat="alternate"`` both) and the opponent is the greedy debater by default::

    env = gym.make("redqueen/Debate-v0")
    env = gym.make("redqueen/Debate-v0", k=4, opponent="minimax", seat="alternate")
    env = gym.make("redqueen/TextDebate-v0", opponent="fabricate")

Debate-v0 opponents: ``"greedy"`` (default), ``"minimax"``, ``"mcts"`` / ``"mctsN"`` (N rollouts),
``"random"`` or any Agent. TextDebate-v0 (:class:`TextDebateEnv`, the discrete moves) opponents:
``"evidence"`` (default, :class:`~redqueen.envs.debate.text_debate.EvidenceDebater`), ``"fabricate"``
(the same, inventing a quote when it has no evidence left), ``"random"`` or any Agent (a text agent's
replies are its arguments). Every other keyword goes to the game (``k``, ``first``, ``precommit``,
``pixels``, ``split``, ``dataset``, ``judge``; ``questions``, ``rounds``, ``judge``, ...).
"""

from __future__ import annotations

from typing import Any, Literal

from redqueen.agents.base import Agent, RandomAgent
from redqueen.envs.single import SeatSpec, SingleAgentEnv
from redqueen.game import Game

__all__ = ["DebateEnv", "TextDebateEnv"]


class DebateEnv(SingleAgentEnv):
    """One debater of the pixel debate against a debater agent (see the module docstring)."""

    def __init__(
        self,
        game: str | Game = "debate",
        opponent: str | Agent = "greedy",
        seat: SeatSpec = 0,
        illegal_action: Literal["penalty", "raise"] = "penalty",
        illegal_reward: float | None = None,
        render_mode: str | None = None,
        **game_params: Any,
    ):
        from redqueen.envs.debate.agents import make_debater
        from redqueen.envs.debate.game import PixelDebate

        if isinstance(game, PixelDebate):
            if game_params:
                raise TypeError("parameters can only be given with a game id, not with a Game instance")
            the_game = game
        elif game == "debate":
            the_game = PixelDebate(**game_params)
        else:
            raise ValueError(f"DebateEnv plays the pixel debate ('debate'), not {game!r}")
        super().__init__(
            the_game,
            opponent=make_debater(opponent, the_game),
            seat=seat,
            illegal_action=illegal_action,
            illegal_reward=illegal_reward,
            render_mode=render_mode,
        )


class TextDebateEnv(SingleAgentEnv):
    """One debater of the text debate (its discrete moves) against a debater agent."""

    def __init__(
        self,
        game: str | Game = "textdebate",
        opponent: str | Agent = "evidence",
        seat: SeatSpec = 0,
        illegal_action: Literal["penalty", "raise"] = "penalty",
        illegal_reward: float | None = None,
        render_mode: str | None = None,
        **game_params: Any,
    ):
        from redqueen.envs.debate.text_debate import EvidenceDebater, TextDebate

        if isinstance(game, TextDebate):
            if game_params:
                raise TypeError("parameters can only be given with a game id, not with a Game instance")
            the_game = game
        elif game == "textdebate":
            the_game = TextDebate(**game_params)
        else:
            raise ValueError(f"TextDebateEnv plays the text debate ('textdebate'), not {game!r}")
        if isinstance(opponent, Agent):
            agent: Agent = opponent
        elif opponent in ("evidence", "fabricate"):
            agent = EvidenceDebater(fabricate=opponent == "fabricate", max_sentences=the_game.max_sentences)
        elif opponent == "random":
            agent = RandomAgent()
        else:
            raise ValueError(
                f"unknown text-debate opponent {opponent!r}; use evidence, fabricate, random or an Agent"
            )
        super().__init__(
            the_game,
            opponent=agent,
            seat=seat,
            illegal_action=illegal_action,
            illegal_reward=illegal_reward,
            render_mode=render_mode,
        )
