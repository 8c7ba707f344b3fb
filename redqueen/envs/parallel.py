"""Any simultaneous-move :class:`~redqueen.game.Game` as a PettingZoo ``ParallelEnv``.

:class:`ParallelGameEnv` is the parallel counterpart of :class:`~redqueen.envs.aec.GameEnv`, with the
same conventions: agents ``player_0``, ``player_1``, ...; observations ``{"observation": <tensor view>,
"action_mask": int8}`` (and ``"text"`` with ``text_observations=True``, the prompt of
``state.observation_text``; ``infos[agent]["legal_moves"]``); ``Discrete(game.num_distinct_actions)``
actions; rewards when the game ends (``state.returns()``), after which the agents are removed.

Every live agent acts in each ``step(actions)``. An action is an integer of the agent's action space,
or, for games whose moves are text (``game.action_kind == "text"``, e.g. a Core War warrior's
Redcode), a string, read by ``state.parse_action``. An illegal action (or text that does not parse)
ends the game as the offender's forfeit (``illegal_action="terminate"``, the default;
``infos[agent]["illegal_action"]`` gives the reason) or raises :class:`~redqueen.IllegalAction`
(``"raise"``). ``reset(seed=s)`` draws the game from ``numpy.random.default_rng(s)``; ``reset()``
continues that stream.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from redqueen.envs.aec import (
    ILLEGAL_ACTION_MODES,
    RENDER_MODES,
    TEXT_CHARSET,
    TEXT_MAX_LENGTH,
    IllegalActionMode,
)
from redqueen.game import SIMULTANEOUS, Game, IllegalAction, State, UnsupportedRenderMode

__all__ = ["ParallelGameEnv"]


class ParallelGameEnv(ParallelEnv):
    """PettingZoo parallel view of a redqueen game whose moves are simultaneous (see the module
    docstring)."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "redqueen_parallel",
        "render_modes": list(RENDER_MODES),
        "is_parallelizable": True,
        "render_fps": 1,
    }

    def __init__(
        self,
        game: Game,
        *,
        name: str | None = None,
        render_mode: str | None = None,
        text_observations: bool = False,
        illegal_action: IllegalActionMode = "terminate",
    ):
        if not isinstance(game, Game):
            raise TypeError(f"ParallelGameEnv needs a redqueen Game, got {type(game).__name__}")
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise UnsupportedRenderMode(f"render_mode must be None, 'human' or 'ansi', got {render_mode!r}")
        if illegal_action not in ILLEGAL_ACTION_MODES:
            raise ValueError(f"illegal_action must be 'terminate' or 'raise', got {illegal_action!r}")
        self.game = game
        self.render_mode = render_mode
        self.text_observations = bool(text_observations)
        self.illegal_action = illegal_action
        self.metadata = {**type(self).metadata, "name": name or game.id}
        self.possible_agents = [f"player_{i}" for i in range(game.num_players)]
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        n_actions = game.num_distinct_actions
        self.observation_spaces: dict[str, spaces.Dict] = {}
        self.action_spaces: dict[str, spaces.Space] = {}
        for i, agent in enumerate(self.possible_agents):
            parts: dict[str, spaces.Space] = {
                "observation": copy.deepcopy(game.observation_space(i)),
                "action_mask": spaces.Box(0, 1, (n_actions,), np.int8),
            }
            if self.text_observations:
                parts["text"] = spaces.Text(TEXT_MAX_LENGTH, charset=TEXT_CHARSET)
            self.observation_spaces[agent] = spaces.Dict(parts)
            self.action_spaces[agent] = spaces.Discrete(n_actions)
        self._state: State | None = None
        self._rng = np.random.default_rng()
        self.agents: list[str] = []

    def observation_space(self, agent: str) -> spaces.Dict:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    def _observe(self, agent: str) -> dict[str, Any]:
        assert self._state is not None
        i = self._index[agent]
        obs: dict[str, Any] = {
            "observation": self._state.observation_tensor(i),
            "action_mask": self._state.action_mask(i),
        }
        if self.text_observations:
            obs["text"] = self._state.observation_text(i)
        return obs

    def _info(self, agent: str) -> dict[str, Any]:
        assert self._state is not None
        info: dict[str, Any] = {}
        if self.text_observations and not self._state.is_terminal():
            info["legal_moves"] = self._state.legal_actions_text(self._index[agent])
        return info

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._state = self.game.new_initial_state(self._rng)
        if self._state.current_player != SIMULTANEOUS:
            raise ValueError(
                f"{self.game.id} does not start with simultaneous moves; use its AEC env (GameEnv) instead"
            )
        self.agents = list(self.possible_agents)
        if self.render_mode == "human":
            self.render()
        return {a: self._observe(a) for a in self.agents}, {a: self._info(a) for a in self.agents}

    def _action(self, agent: str, action: Any) -> int:
        assert self._state is not None
        i = self._index[agent]
        if isinstance(action, str):
            if self.game.action_kind != "text":
                raise ValueError(f"{self.game.id} takes integer actions, not text")
            return self._state.parse_action(i, action)
        if isinstance(action, bool | np.bool_) or not isinstance(action, int | np.integer):
            raise ValueError(f"action of {agent} must be an integer (or text), got {action!r:.80}")
        action = int(action)
        if not self.action_spaces[agent].contains(action):
            raise ValueError(
                f"action {action} of {agent} is outside its action space {self.action_spaces[agent]}"
            )
        if action not in self._state.legal_actions(i):
            raise IllegalAction(f"action {action} is not legal for {agent} now")
        return action

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if self._state is None:
            raise AssertionError("reset() must be called before step()")
        if not self.agents:
            raise ValueError("the game is over; call reset()")
        missing = sorted(set(self.agents) - set(actions))
        extra = sorted(set(actions) - set(self.agents))
        if missing or extra:
            raise ValueError(f"step() needs one action per live agent; missing {missing}, unexpected {extra}")
        moves: dict[int, int] = {}
        illegal: dict[str, str] = {}
        for agent in self.agents:
            try:
                moves[self._index[agent]] = self._action(agent, actions[agent])
            except IllegalAction as err:
                if self.illegal_action == "raise":
                    raise
                illegal[agent] = str(err)
                self._state.forfeit(self._index[agent])
                break
        if not illegal:
            self._state.apply_actions(moves)
        done = self._state.is_terminal()
        returns = self._state.returns()
        agents = list(self.agents)
        observations = {a: self._observe(a) for a in agents}
        rewards = {a: float(returns[self._index[a]]) if done else 0.0 for a in agents}
        terminations = dict.fromkeys(agents, done)
        truncations = dict.fromkeys(agents, False)
        infos = {a: self._info(a) for a in agents}
        for agent, reason in illegal.items():
            infos[agent]["illegal_action"] = reason
        if done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        if self.render_mode is None:
            return None
        if self._state is None:
            raise AssertionError("reset() must be called before render()")
        text = self._state.render()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        pass

    @property
    def game_state(self) -> State:
        """The redqueen state of the game in progress (or just finished)."""
        if self._state is None:
            raise AssertionError("reset() must be called first")
        return self._state
