"""Any turn-based :class:`~redqueen.game.Game` as a PettingZoo AEC environment.

:class:`GameEnv` follows the conventions of PettingZoo's classic games: agents ``player_0``,
``player_1``, ...; a dict observation ``{"observation": <tensor view>, "action_mask": int8 mask}``
(the mask is all zeros for agents not to move); rewards only when the game ends (each agent gets its
``state.returns()`` entry), then one ``step(None)`` per agent to remove it. With
``text_observations=True`` the observation also carries ``"text"`` (the prompt
``state.observation_text`` writes for that agent) and ``infos[agent]["legal_moves"]`` the moves as a
language model should write them.

The checks that PettingZoo's ``env()`` adds with three wrappers (order enforcement, action bounds,
illegal moves) are built in and cost next to nothing, so ``env()`` returns a bare :class:`GameEnv`:

* ``step``/``observe``/``last``/``render``/``agent_iter`` before ``reset()`` raise
  :class:`EnvOrderError` (an ``AssertionError``, as PettingZoo's ``OrderEnforcingWrapper`` raises);
  reading ``agents``, ``rewards``, ... before ``reset()`` raises ``AttributeError``.
* an action outside the action space (not an integer, or out of range) raises
  :class:`ActionOutOfSpace`; ``None`` for a live agent or an action for a finished one raises
  ``ValueError``.
* an action inside the space but illegal now: with ``illegal_action="terminate"`` (the default, as
  PettingZoo's ``TerminateIllegalWrapper``) the game ends, the offender gets ``game.min_return`` and
  the others the opposite (:meth:`State.forfeit`), and ``infos[offender]["illegal_action"]`` holds
  the reason; with ``illegal_action="raise"`` :class:`~redqueen.game.IllegalAction` is raised and
  nothing changes, so the caller may step again.

Legality is judged by the game itself (``State.apply_action`` raises ``IllegalAction`` and leaves
the state as it was), so a legal move costs no extra check. Chance events draw from one
``numpy.random.Generator`` made at ``reset(seed=...)``; a ``reset()`` without a seed continues that
stream, so the same seed gives the same sequence of games.
"""

from __future__ import annotations

import copy
import logging
import operator
import string
from collections.abc import Iterable
from typing import Any, ClassVar, Literal

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

from redqueen.game import (
    CHANCE,
    SIMULTANEOUS,
    TERMINAL,
    Game,
    IllegalAction,
    RedqueenError,
    State,
    UnsupportedRenderMode,
)

__all__ = ["ActionOutOfSpace", "EnvOrderError", "GameEnv"]

logger = logging.getLogger(__name__)

IllegalActionMode = Literal["terminate", "raise"]
ILLEGAL_ACTION_MODES = ("terminate", "raise")
RENDER_MODES = ("human", "ansi")

#: Characters the ``"text"`` observation may hold by default: printable ASCII, space, tab and newlines.
TEXT_CHARSET = string.printable
TEXT_MAX_LENGTH = 65536

# attributes that exist only once reset() has run (PettingZoo's OrderEnforcingWrapper guards the same)
_RESET_ATTRS = frozenset(
    {"agents", "rewards", "_cumulative_rewards", "terminations", "truncations", "infos", "agent_selection"}
)
_MASK_CACHE_SIZE = 4096


class EnvOrderError(RedqueenError, AssertionError):
    """An environment method called out of order, e.g. ``step()`` before ``reset()``.

    A subclass of ``AssertionError`` because PettingZoo's ``OrderEnforcingWrapper`` raises that.
    """


class ActionOutOfSpace(RedqueenError, ValueError):
    """An action that is not in the agent's action space (not an integer, or out of range)."""


class GameEnv(AECEnv):
    """PettingZoo AEC view of a turn-based redqueen game.

    Args:
        game: the game to play (a :class:`~redqueen.game.Game` with ``current_player`` turns and a
            discrete action set).
        name: ``metadata["name"]``, e.g. ``"kuhn_poker_v0"`` (default: the game id).
        render_mode: ``None``, ``"human"`` (``render()`` prints the state) or ``"ansi"``
            (``render()`` returns it as a string).
        text_observations: add the ``"text"`` key to observations and ``"legal_moves"`` to infos.
        illegal_action: ``"terminate"`` (the offender forfeits) or ``"raise"``.
        dense_rewards: also reward changes of ``state.returns()`` during the game (e.g. after each
            hand of a multi-hand Kuhn poker match); by default rewards come only at the end. The
            rewards of one game always add up to ``state.returns()``.
        text_charset: characters the ``"text"`` space allows (default :data:`TEXT_CHARSET`); a
            prompt with any other character raises ``ValueError``.
        text_max_length: the ``"text"`` space's maximal length.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "redqueen_game",
        "render_modes": list(RENDER_MODES),
        "is_parallelizable": False,
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
        dense_rewards: bool = False,
        text_charset: str | Iterable[str] = TEXT_CHARSET,
        text_max_length: int = TEXT_MAX_LENGTH,
    ):
        super().__init__()
        if not isinstance(game, Game):
            raise TypeError(
                f"GameEnv needs a redqueen.game.Game instance, got {type(game).__name__} {game!r}; "
                "use redqueen.make_game(id, **params) to make one"
            )
        n_actions = getattr(game, "num_distinct_actions", 0)
        if not isinstance(n_actions, int | np.integer) or n_actions <= 0:
            raise ValueError(
                f"GameEnv needs a discrete action set, but {game.id} has num_distinct_actions="
                f"{n_actions!r} (action_kind={game.action_kind!r}); use the text environment instead"
            )
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise UnsupportedRenderMode(f"render_mode must be None, 'human' or 'ansi', got {render_mode!r}")
        if illegal_action not in ILLEGAL_ACTION_MODES:
            raise ValueError(f"illegal_action must be 'terminate' or 'raise', got {illegal_action!r}")
        if not isinstance(text_max_length, int) or text_max_length < 1:
            raise ValueError(f"text_max_length must be a positive integer, got {text_max_length!r}")

        self.game = game
        self.render_mode = render_mode
        self.text_observations = bool(text_observations)
        self.illegal_action = illegal_action
        self.dense_rewards = bool(dense_rewards)
        self.metadata = {**GameEnv.metadata, "name": name if name is not None else game.id}

        n = int(game.num_players)
        self._n = n
        self._num_actions = int(n_actions)
        self.possible_agents = [f"player_{i}" for i in range(n)]
        self._names = tuple(self.possible_agents)
        self._index = {agent: i for i, agent in enumerate(self.possible_agents)}

        # one space object per agent, made once (api_test and seed_test need the identical object);
        # copies, so that seeding one agent's space does not touch another agent's or another env's
        mask_space = spaces.Box(0, 1, (self._num_actions,), np.int8)
        self._text_space: spaces.Text | None = None
        if self.text_observations:
            self._text_space = spaces.Text(
                max_length=text_max_length, min_length=0, charset=frozenset(text_charset)
            )
        self.observation_spaces: dict[str, spaces.Dict] = {}
        self.action_spaces: dict[str, spaces.Space] = {}
        for i, agent in enumerate(self.possible_agents):
            parts: dict[str, spaces.Space] = {
                "observation": copy.deepcopy(game.observation_space(i)),
                "action_mask": copy.deepcopy(mask_space),
            }
            if self._text_space is not None:
                parts["text"] = copy.deepcopy(self._text_space)
            self.observation_spaces[agent] = spaces.Dict(parts)
            self.action_spaces[agent] = copy.deepcopy(game.action_space(i))

        self._rng: np.random.Generator | None = None
        self._state: State | None = None
        self._player = -1  # seat to move in self._state, or a negative special value
        self._done = True
        self._obs_cache: dict[str, dict[str, Any]] = {}
        self._zero_mask = np.zeros(self._num_actions, dtype=np.int8)
        self._masks: dict[tuple[int, ...], np.ndarray] = {}
        self._emitted = np.zeros(n, dtype=np.float64)  # rewards handed out so far (dense_rewards)
        self._warned_illegal = False
        self._skip_agent_selection: str | None = None

    # ---- spaces ------------------------------------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Dict:
        try:
            return self.observation_spaces[agent]
        except KeyError:
            raise self._unknown_agent(agent) from None

    def action_space(self, agent: str) -> spaces.Space:
        try:
            return self.action_spaces[agent]
        except KeyError:
            raise self._unknown_agent(agent) from None

    def _unknown_agent(self, agent: Any) -> KeyError:
        return KeyError(f"unknown agent {agent!r}; this env's agents are {', '.join(self.possible_agents)}")

    # ---- state -------------------------------------------------------------------------------------
    @property
    def game_state(self) -> State:
        """The game in progress (a :class:`~redqueen.game.State`; do not change it)."""
        if self._state is None:
            raise EnvOrderError("reset() needs to be called before game_state is read.")
        return self._state

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails, so this costs nothing once reset() has run
        if name in _RESET_ATTRS:
            raise AttributeError(f"{name} cannot be accessed before reset(); call env.reset() first")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def reset(
        self, seed: int | np.random.Generator | None = None, options: dict[str, Any] | None = None
    ) -> None:
        """Start a new game. ``seed`` (re)seeds the chance stream; ``options`` is accepted and ignored."""
        if seed is not None:
            if isinstance(seed, np.random.Generator):
                self._rng = seed
            elif isinstance(seed, int | np.integer) and not isinstance(seed, bool):
                self._rng = np.random.default_rng(int(seed))
            else:
                raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
        elif self._rng is None:
            self._rng = np.random.default_rng()
        state = self.game.new_initial_state(self._rng)
        self._state = state
        agents = list(self.possible_agents)
        self.agents = agents
        self.rewards = dict.fromkeys(agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(agents, 0.0)
        self.terminations = dict.fromkeys(agents, False)
        self.truncations = dict.fromkeys(agents, False)
        self.infos = {agent: {} for agent in agents}
        self._skip_agent_selection = None
        self._obs_cache = {}
        self._emitted = np.zeros(self._n, dtype=np.float64)
        self._done = False
        self.agent_selection = agents[0]
        player = state.current_player
        if player >= 0:
            self._player = player
            self.agent_selection = self._names[player]
            if self.text_observations:
                self._update_text_infos()
        else:
            self._special_node(player, mover=self._n - 1)

    # ---- stepping ----------------------------------------------------------------------------------
    def step(self, action: Any) -> None:
        """Play ``action`` for ``agent_selection`` (``None`` for an agent that is terminated)."""
        state = self._state
        if state is None:
            raise EnvOrderError("reset() needs to be called before step().")
        if self._done:
            self._was_dead_step(action)
            return
        if action.__class__ is not int:
            action = self._coerce_action(action)
        if not 0 <= action < self._num_actions:
            raise ActionOutOfSpace(
                f"action {action} of {self.agent_selection} is outside its action space "
                f"Discrete({self._num_actions}) (valid actions: 0 to {self._num_actions - 1})"
            )
        player = self._player
        try:
            state.apply_action(action)
        except IllegalAction as err:
            if self.illegal_action == "raise":
                raise
            self._forfeit(player, err)
            return
        self._obs_cache = {}
        self._cumulative_rewards[self._names[player]] = 0.0
        nxt = state.current_player
        if nxt >= 0:
            self._player = nxt
            self.agent_selection = self._names[nxt]
            if self.dense_rewards:
                self._give_rewards()
            if self.text_observations:
                self._update_text_infos()
        else:
            self._special_node(nxt, mover=player)

    def _coerce_action(self, action: Any) -> int:
        if action is None:
            raise ValueError(
                f"step(None) is only for terminated or truncated agents; {self.agent_selection} is to "
                f"move and needs an action in Discrete({self._num_actions})"
            )
        if isinstance(action, bool | np.bool_):
            raise ActionOutOfSpace(
                f"action {action!r} of {self.agent_selection} is a bool, not an action index"
            )
        try:
            return operator.index(action)
        except TypeError:
            raise ActionOutOfSpace(
                f"action {action!r} of {self.agent_selection} is not an integer action index "
                f"(got {type(action).__name__}; the action space is Discrete({self._num_actions}))"
            ) from None

    def _special_node(self, player: int, mover: int) -> None:
        """After a change that left no seat to move: the game ended (or reached an unsupported node)."""
        state = self._state
        assert state is not None
        if state.is_terminal():
            self._end_game(mover)
        elif player == SIMULTANEOUS:
            raise NotImplementedError(
                f"GameEnv plays turn-based games only: {self.game.id} reached a simultaneous-move node "
                "(current_player == SIMULTANEOUS); such games need a parallel environment"
            )
        elif player == CHANCE:
            raise RuntimeError(
                f"{self.game.id} stopped at a chance node; GameEnv makes its states with sampled chance, "
                "so new_initial_state(rng) must not return explicit-chance states"
            )
        else:
            raise RuntimeError(f"{self.game.id} returned an invalid current_player {player!r}")

    def _give_rewards(self) -> None:
        """Reward every agent with the change of its return since the last reward."""
        returns = np.array(self._state.returns(), dtype=np.float64)  # type: ignore[union-attr]
        delta = returns - self._emitted
        self._emitted = returns
        rewards, cumulative = self.rewards, self._cumulative_rewards
        for i, agent in enumerate(self._names):
            if agent in rewards:
                r = float(delta[i])
                rewards[agent] = r
                cumulative[agent] += r

    def _end_game(self, mover: int) -> None:
        self._done = True
        self._player = TERMINAL
        self._obs_cache = {}
        self._give_rewards()
        for agent in self.agents:
            self.terminations[agent] = True
        if self.text_observations:  # new dicts: infos handed out earlier keep what they said
            for agent in self.agents:
                self.infos[agent] = {**self.infos[agent], "legal_moves": []}
        # the agent after the mover is removed first (it has not seen the final result yet)
        self.agent_selection = self._names[(mover + 1) % self._n]

    def _forfeit(self, player: int, err: IllegalAction) -> None:
        state = self._state
        assert state is not None
        agent = self._names[player]
        message = str(err)
        if not self._warned_illegal:
            self._warned_illegal = True
            logger.warning(
                "%s: illegal move by %s, the game ends with %s losing (%s). obs['action_mask'] marks the "
                "legal moves. Further illegal moves in this env are logged at DEBUG level.",
                self.metadata["name"],
                agent,
                agent,
                message,
            )
        else:
            logger.debug("%s: illegal move by %s: %s", self.metadata["name"], agent, message)
        state.forfeit(player)
        self._cumulative_rewards[agent] = 0.0
        self.infos[agent] = {**self.infos[agent], "illegal_action": message}
        self._end_game(player)

    def _was_dead_step(self, action: Any) -> None:
        """``step(None)`` for a terminated or truncated agent: remove it and select the next one."""
        agent = self.agent_selection
        if agent not in self.terminations:
            raise EnvOrderError(
                "step() called after every agent was removed at the end of the game; call reset() first."
            )
        if action is not None:
            raise ValueError(f"{agent} is terminated or truncated; the only valid action is None")
        if not (self.terminations[agent] or self.truncations[agent]):
            raise RuntimeError(f"{agent} is still playing and cannot be removed")
        del self.terminations[agent]
        del self.truncations[agent]
        del self.rewards[agent]
        del self._cumulative_rewards[agent]
        del self.infos[agent]
        self.agents.remove(agent)
        for other in self.agents:
            if self.terminations[other] or self.truncations[other]:
                if self._skip_agent_selection is None:
                    self._skip_agent_selection = agent
                self.agent_selection = other
                break
        else:
            if self._skip_agent_selection is not None:
                self.agent_selection = self._skip_agent_selection
            self._skip_agent_selection = None
        for other in self.rewards:
            self.rewards[other] = 0.0

    # ---- observing ---------------------------------------------------------------------------------
    def observe(self, agent: str) -> dict[str, Any]:
        """``agent``'s observation ``{"observation", "action_mask"[, "text"]}`` (cached per step)."""
        obs = self._obs_cache.get(agent)
        if obs is None:
            obs = self._make_observation(agent)
        return obs

    def _make_observation(self, agent: str) -> dict[str, Any]:
        state = self._state
        if state is None:
            raise EnvOrderError("reset() needs to be called before observe().")
        i = self._index.get(agent)
        if i is None:
            raise self._unknown_agent(agent)
        if i == self._player:
            legal = state.legal_actions(i)
            key = tuple(legal)
            mask = self._masks.get(key)
            if mask is None:
                mask = np.zeros(self._num_actions, dtype=np.int8)
                mask[legal] = 1
                if len(self._masks) < _MASK_CACHE_SIZE:
                    self._masks[key] = mask.copy()
            else:
                mask = mask.copy()
        else:
            mask = self._zero_mask.copy()
        obs = {"observation": state.observation_tensor(i), "action_mask": mask}
        if self.text_observations:
            obs["text"] = self._text(state, i)
        self._obs_cache[agent] = obs
        return obs

    def _text(self, state: State, i: int) -> str:
        text = state.observation_text(i)
        space = self._text_space
        assert space is not None
        if len(text) > space.max_length:
            raise ValueError(
                f"{self.game.id}'s prompt for player {i} has {len(text)} characters, more than "
                f"text_max_length={space.max_length}; make the env with a larger text_max_length"
            )
        if not space.character_set.issuperset(text):
            bad = sorted(set(text) - space.character_set)
            raise ValueError(
                f"{self.game.id}'s prompt for player {i} contains characters outside the text space's "
                f"charset: {''.join(bad)!r}; make the env with text_charset=... including them"
            )
        return text

    def _update_text_infos(self) -> None:
        state = self._state
        assert state is not None
        player = self._player
        for i, agent in enumerate(self._names):
            if agent in self.infos:
                legal = state.legal_actions_text(i) if i == player else []
                self.infos[agent] = {"legal_moves": legal}

    def last(self, observe: bool = True) -> tuple[dict[str, Any] | None, float, bool, bool, dict[str, Any]]:
        """Observation, cumulative reward, terminated, truncated and info of ``agent_selection``."""
        if self._state is None:
            raise EnvOrderError("reset() needs to be called before last().")
        agent = self.agent_selection
        if observe:
            obs = self._obs_cache.get(agent)
            if obs is None:
                obs = self._make_observation(agent)
        else:
            obs = None
        return (
            obs,
            self._cumulative_rewards[agent],
            self.terminations[agent],
            self.truncations[agent],
            self.infos[agent],
        )

    def agent_iter(self, max_iter: int = 2**63):
        if self._state is None:
            raise EnvOrderError("reset() needs to be called before agent_iter().")
        return super().agent_iter(max_iter)

    # ---- rendering ---------------------------------------------------------------------------------
    def render(self) -> str | None:
        """``"ansi"``: the state as a string; ``"human"``: print it (returns None)."""
        if self.render_mode is None:
            gymnasium.logger.warn(
                "You are calling render method without specifying any render mode "
                "(make the env with render_mode='human' or 'ansi')."
            )
            return None
        if self._state is None:
            raise EnvOrderError("reset() needs to be called before render().")
        text = self._state.render()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        """Nothing to release (no window); defined because ``render`` is."""

    def __repr__(self) -> str:
        return f"<GameEnv {self.metadata['name']} game={self.game!r}>"
