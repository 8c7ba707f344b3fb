"""Who-Is-the-Spy as a PettingZoo AEC environment, with PettingZoo's classic conventions.

Usage::

    from redqueen.envs import whoisthespy_v0

    env = whoisthespy_v0.env(payload="scenes", text_observations=True)
    env.reset(seed=0)
    for agent in env.agent_iter():
        obs, reward, terminated, truncated, info = env.last()
        action = None if terminated or truncated else policy(obs["observation"], obs["action_mask"])
        env.step(action)

Agents ``player_0`` ... ``player_{N-1}`` (default 4: 3 civilians and a spy drawn by the seed). Actions
are the discrete view of :mod:`redqueen.envs.spy.game`: clues ``0 .. V-1`` (the attribute vocabulary:
the built-in word list's features, or the procedural scenes' facts), then a vote for each player
and "n/a". The clue rounds are turns; the vote, a simultaneous move of the game, is asked of the
voters one after another (``simultaneous_vote=False``) and no voter sees another's vote, which is how
PettingZoo's AEC form plays simultaneous moves. Observations ``{"observation": float32 vector (see
:class:`~redqueen.envs.spy.game.Layout`), "action_mask": int8}`` (with ``image_observation=True`` the
observation is ``{"features", "image"}``; with ``text_observations=True`` ``"text"`` is the prompt,
pictures included as data URIs). Rewards at the end: the game's returns (``reward="both"`` by
default: clue stage + decision stage, see the game's docstring).

Options: every parameter of :class:`~redqueen.envs.spy.game.WhoIsTheSpy` (``players``, ``payload``,
``source``, ``rounds``, ``order``, ``spy_knows_role``, ``variant``, ``reward``, ``blank_spy``, ...),
and ``render_mode`` (None, "human", "ansi"), ``text_observations``, ``illegal_action`` ("terminate":
the offender gets the game's minimum, the default; "raise").

``env()`` and ``raw_env()`` return the same :class:`~redqueen.envs.aec.GameEnv`. There is no
``parallel_env()``: the clue stage is sequential, so the game is not a parallel game.
"""

from __future__ import annotations

from typing import Any

from redqueen.envs.aec import GameEnv, IllegalActionMode
from redqueen.envs.spy.game import WhoIsTheSpy
from redqueen.envs.spy.single import check_discrete

__all__ = ["env", "raw_env"]

NAME = "whoisthespy_v0"


def raw_env(
    *,
    render_mode: str | None = None,
    text_observations: bool = False,
    illegal_action: IllegalActionMode = "terminate",
    **game_params: Any,
) -> GameEnv:
    """A Who-Is-the-Spy AEC environment (a :class:`GameEnv`; see the module docstring)."""
    if game_params.get("simultaneous_vote", False):
        raise ValueError(
            "the AEC env asks the voters in turn (their votes stay hidden); simultaneous_vote=True is the "
            "game's own form, played by the match runner, the text env and the Gymnasium env"
        )
    game = check_discrete(WhoIsTheSpy(**{**game_params, "simultaneous_vote": False}))
    return GameEnv(
        game,
        name=NAME,
        render_mode=render_mode,
        text_observations=text_observations,
        illegal_action=illegal_action,
        text_max_length=game.text_space_length(),
    )


env = raw_env
