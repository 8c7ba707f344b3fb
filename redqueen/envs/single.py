"""Any redqueen game as a single-agent Gymnasium environment: one learner seat against opponent agents.

``gym.make("redqueen/KuhnPoker-v0", opponent="nash", seat="alternate")`` gives a
:class:`SingleAgentEnv` in which the learner plays one seat and the opponents (any
:class:`~redqueen.agents.Agent`, or a short name that :func:`~redqueen.agents.make_agent` resolves)
play the others. It is the environment stable-baselines3 trains on:

* observations are the game's tensor view for the learner's seat (``game.observation_space(seat)``),
  actions are ``Discrete(game.num_distinct_actions)``;
* the legal moves are in ``info["action_mask"]`` (int8, usable as ``action_space.sample(mask=...)``)
  and in :meth:`SingleAgentEnv.action_masks` (bool, what sb3-contrib's ``MaskablePPO`` calls);
* the reward of a step is the change of the learner's return since the previous step, so a
  multi-hand match gives one reward per hand and the rewards of an episode add up to the final
  return;
* an illegal learner move ends the episode with ``illegal_reward`` (``illegal_action="penalty"``,
  the default) or raises :class:`~redqueen.IllegalAction` (``illegal_action="raise"``).

A text opponent's reply is turned into a move with the game's ``parse_action``; a reply with no
legal move, or a tensor opponent's move that is not legal, makes that opponent forfeit (the episode
ends with the learner's reward, and ``info["opponent_forfeit"]`` says why), as the match runner
:func:`redqueen.play` scores an illegal move by default.

``reset(seed=s)`` deals the game from ``numpy.random.default_rng(s)``, as ``game.new_initial_state(s)``
and the other adapters (the PettingZoo env, :class:`~redqueen.envs.text.TextEnv`) do, so a seed gives
the same cards everywhere.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import gymnasium
import numpy as np

from redqueen.agents import Agent, make_agent
from redqueen.game import (
    CHANCE,
    SIMULTANEOUS,
    Game,
    IllegalAction,
    State,
    UnsupportedRenderMode,
    agent_observation,
    reply_to_action,
    seeded_streams,
)
from redqueen.registry import make_game

SeatSpec = int | Literal["alternate", "random"]
_SEED_BOUND = 2**31 - 1


class SingleAgentEnv(gymnasium.Env):
    """One seat of a redqueen game as a ``gymnasium.Env``; the other seats are played by opponents.

    Args:
        game: a game id (``"kuhn_poker"``, ``"tictactoe"``) or a :class:`~redqueen.Game` instance.
        opponent: the agent for the other seat: an Agent, or a name for
            :func:`~redqueen.agents.make_agent` (``"random"``, ``"nash"``, ``"minimax"``, ``"cfr"``).
            Games with more than two players take one spec per other seat (a list, given to the
            other seats in ascending order) or a single spec for all of them.
        seat: the learner's seat: a fixed seat number, ``"alternate"`` (episode ``k`` counted from
            the last seeded reset plays seat ``k % num_players``, so ``reset(seed=s)`` always replays
            the same episode; SB3 seeds once and then alternates) or ``"random"`` (drawn from the env's
            random generator at each reset). ``info["seat"]`` tells the seat of the episode.
        illegal_action: ``"penalty"`` ends the episode on an illegal learner move with reward
            ``illegal_reward`` and ``info["illegal_action"]`` (the reason; the game itself is scored
            as the learner's forfeit in ``info["returns"]``); ``"raise"`` raises
            :class:`~redqueen.IllegalAction` and leaves the game as it was.
        illegal_reward: the reward of an illegal move (default: the game's ``min_return``).
        render_mode: None, ``"ansi"`` (``render()`` returns the state's picture as text) or
            ``"human"`` (the picture is printed at every reset and step).
        **game_params: parameters of the game, with a game id (e.g. ``rounds=3`` for Kuhn poker).

    Randomness: ``reset(seed=s)`` draws the game's chance events (the cards) from
    ``numpy.random.default_rng(s)``, the stream ``game.new_initial_state(s)`` uses, and ``reset()``
    without a seed continues that stream. The learner's seat under ``seat="random"`` and the
    opponents' reset seeds come from a second generator, made from a child of ``SeedSequence(s)``,
    so they never change the cards. A never-seeded env draws both from fresh entropy.

    Opponents: at each reset every opponent is reset with a seed from the env, and the env keeps the
    generator the agent made then (``agent.rng``) as its own. Each ``agent.act`` call runs with that
    generator swapped into the agent, and the agent's previous one is put back afterwards. So one
    Agent object may be shared by several envs (SB3's ``make_vec_env(...,
    env_kwargs={"opponent": agent})`` does that) without one env's resets or steps changing another
    env's episodes. The swap is not thread-safe: envs sharing an agent must not step concurrently in
    threads (SB3's vectorised envs step them one after the other, or copy them into subprocesses).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["human", "ansi"], "render_fps": 1}

    def __init__(
        self,
        game: str | Game,
        opponent: str | Agent | Sequence[str | Agent] = "random",
        seat: SeatSpec = 0,
        illegal_action: Literal["penalty", "raise"] = "penalty",
        illegal_reward: float | None = None,
        render_mode: str | None = None,
        **game_params: Any,
    ):
        self.game: Game = make_game(game, **game_params)
        n = self.game.num_players
        if self.game.num_distinct_actions < 1:
            raise ValueError(
                f"{self.game.id} has no discrete actions, so it has no single-agent Gymnasium view"
            )

        if isinstance(seat, str):
            if seat not in ("alternate", "random"):
                raise ValueError(f"seat must be a seat number, 'alternate' or 'random', got {seat!r}")
            seats = list(range(n))
        elif isinstance(seat, int | np.integer) and not isinstance(seat, bool):
            if not 0 <= seat < n:
                raise ValueError(f"seat must be in 0..{n - 1} for {self.game.id}, got {seat!r}")
            seat = int(seat)
            seats = [seat]
        else:
            raise ValueError(f"seat must be a seat number, 'alternate' or 'random', got {seat!r}")
        self.seat_mode: SeatSpec = seat

        if illegal_action not in ("penalty", "raise"):
            raise ValueError(f"illegal_action must be 'penalty' or 'raise', got {illegal_action!r}")
        self.illegal_action = illegal_action
        if illegal_reward is None:
            illegal_reward = self.game.min_return
        try:
            self.illegal_reward = float(illegal_reward)
        except (TypeError, ValueError):
            raise ValueError(f"illegal_reward must be a number, got {illegal_reward!r}") from None

        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UnsupportedRenderMode(f"render_mode must be None, 'human' or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode

        self.opponents: list[Agent] = self._make_opponents(opponent)

        # One space object for every episode, whichever seat the learner plays.
        space = self.game.observation_space(seats[0])
        for s in seats[1:]:
            other = self.game.observation_space(s)
            if other != space:
                raise ValueError(
                    f"seat={seat!r} needs the same observation space for every seat, but {self.game.id} "
                    f"gives {space} to seat {seats[0]} and {other} to seat {s}; use a fixed seat"
                )
        # a copy: the Game caches one space object, which other envs on the same Game instance share,
        # and seeding this env's space must not change their samples
        self.observation_space = copy.deepcopy(space)
        self.action_space = gymnasium.spaces.Discrete(self.game.num_distinct_actions)

        self.state: State | None = None
        self.seat: int = seats[0]
        self._chance_rng: np.random.Generator | None = None  # the game's chance events
        self._rng: np.random.Generator | None = None  # seats and opponent seeds
        # the generator of each opponent (an agent playing several seats has one), kept by this env
        self._opponent_rngs: list[Any] = [None] * len(self.opponents)
        self._episode = 0  # resets since the last seeded one, for seat="alternate"
        self._last_return = 0.0
        self._done = True

    def _make_opponents(self, opponent: str | Agent | Sequence[str | Agent]) -> list[Agent]:
        n_other = self.game.num_players - 1
        if isinstance(opponent, str | Agent):
            specs: list[str | Agent] = [opponent] * n_other
        elif isinstance(opponent, Sequence) and len(opponent) == n_other:
            specs = list(opponent)
        else:
            raise ValueError(
                "opponent must be an Agent or an agent name"
                + (f", or a list of {n_other} of them" if n_other > 1 else "")
                + f"; got {opponent!r}"
            )
        # a name makes one agent per seat; an Agent object given once plays every other seat
        return [make_agent(spec, self.game) for spec in specs]

    @property
    def opponent(self) -> Agent:
        """The opponent agent (the first one, in games with more than two players)."""
        return self.opponents[0]

    # ---- Gymnasium API ---------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new game. ``options={"seat": s}`` plays seat ``s`` in this episode only."""
        n = self.game.num_players
        options = dict(options or {})
        forced_seat = options.pop("seat", None)
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}; the only option is 'seat'")
        if forced_seat is not None:
            if isinstance(forced_seat, bool) or not isinstance(forced_seat, int | np.integer):
                raise ValueError(f"options['seat'] must be a seat number, got {forced_seat!r}")
            if not 0 <= forced_seat < n:
                raise ValueError(f"options['seat'] must be in 0..{n - 1}, got {forced_seat!r}")
            if self.game.observation_space(int(forced_seat)) != self.observation_space:
                raise ValueError(f"seat {forced_seat} has another observation space than this env")
            forced_seat = int(forced_seat)

        super().reset(seed=seed)  # seeds gymnasium's np_random too (and checks the seed)
        if seed is not None:
            self._chance_rng, self._rng = seeded_streams(int(seed))
            self._episode = 0  # same seed, same episode: the alternation restarts too
        elif self._chance_rng is None or self._rng is None:
            self._chance_rng, self._rng = seeded_streams(None)
        rng = self._rng

        if self.seat_mode == "alternate":
            seat = self._episode % n
        elif self.seat_mode == "random":
            seat = int(rng.integers(n))  # drawn even when options force a seat: later seats stay the same
        else:
            seat = int(self.seat_mode)
        if forced_seat is not None:
            seat = forced_seat
        self._episode += 1
        self.seat = seat

        first: dict[int, int] = {}  # an agent playing several seats is reset once and has one generator
        for i, agent in enumerate(self.opponents):
            j = first.setdefault(id(agent), i)
            if j == i:
                agent.reset(seed=int(rng.integers(_SEED_BOUND)))
                self._opponent_rngs[i] = getattr(agent, "rng", None)
            else:
                self._opponent_rngs[i] = self._opponent_rngs[j]
        self.state = self.game.new_initial_state(self._chance_rng)
        self._last_return = 0.0
        self._done = False

        info: dict[str, Any] = {}
        self._play_opponents(info)
        if self.render_mode == "human":
            self.render()
        return self.state.observation_tensor(seat), self._info(info)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        state = self.state
        if state is None or self._done:
            raise gymnasium.error.ResetNeeded(
                "the episode is over (or has not started); call reset() before step()"
            )
        action = self._check_action(action)
        seat = self.seat
        info: dict[str, Any] = {}

        if not state.is_terminal():  # it is terminal here only when the game ended before our first move
            legal = state.legal_actions(seat)
            if action not in legal:
                reason = (
                    f"action {action} is not a legal move for player {seat} now "
                    f"(legal actions: {', '.join(self._describe(a) for a in legal) or 'none'})."
                )
                if self.illegal_action == "raise":
                    raise IllegalAction(reason)
                state.forfeit(seat)
                self._done = True
                info["illegal_action"] = reason
                info["returns"] = state.returns()
                if self.render_mode == "human":
                    self.render()
                return state.observation_tensor(seat), self.illegal_reward, True, False, self._info(info)

            if state.current_player == SIMULTANEOUS:
                moves = {seat: action}
                for p in range(self.game.num_players):
                    if p != seat and state.legal_actions(p):
                        move = self._opponent_move(p, info)
                        if move is None:
                            break
                        moves[p] = move
                else:
                    state.apply_actions(moves)
            else:
                state.apply_action(action)
            self._play_opponents(info)

        terminated = state.is_terminal()
        ret = float(state.returns()[seat])
        reward = ret - self._last_return
        self._last_return = ret
        if terminated:
            self._done = True
            info["returns"] = state.returns()
        if self.render_mode == "human":
            self.render()
        return state.observation_tensor(seat), reward, terminated, False, self._info(info)

    def action_masks(self) -> np.ndarray:
        """Bool mask of the actions :meth:`step` accepts now: the learner's legal moves (all False once
        the episode is over; all True when the game ended before the learner's first move, where
        any action only collects the result)."""
        return self._mask().astype(bool)

    def _mask(self) -> np.ndarray:
        if self.state is None:
            raise gymnasium.error.ResetNeeded("call reset() before action_masks()")
        if not self._done and self.state.is_terminal():
            return np.ones(self.action_space.n, dtype=np.int8)
        return self.state.action_mask(self.seat)

    def render(self) -> str | None:
        if self.render_mode is None:
            gymnasium.logger.warn(
                "render() was called but the env has no render_mode; make it with render_mode='ansi' "
                "or 'human'."
            )
            return None
        if self.state is None:
            raise gymnasium.error.ResetNeeded("call reset() before render()")
        picture = self.state.render()
        if self.render_mode == "ansi":
            return picture
        print(picture)
        return None

    def close(self) -> None:
        pass

    # ---- internals -------------------------------------------------------------------------------
    def _info(self, extra: dict[str, Any]) -> dict[str, Any]:
        assert self.state is not None
        info = {"seat": self.seat, "action_mask": self._mask()}
        info.update(extra)
        return info

    def _describe(self, action: int) -> str:
        assert self.state is not None
        try:
            return f"{action} [{self.state.action_to_text(self.seat, action)}]"
        except Exception:  # a game may not name actions that are not legal now
            return str(action)

    def _check_action(self, action: Any) -> int:
        if isinstance(action, np.ndarray):
            if action.shape != () or not np.issubdtype(action.dtype, np.integer):
                raise TypeError(
                    f"the action must be one integer in 0..{self.action_space.n - 1}, got an array of shape "
                    f"{action.shape} and dtype {action.dtype}"
                )
            action = action.item()
        if isinstance(action, bool) or not isinstance(action, int | np.integer):
            raise TypeError(
                f"the action must be an integer in 0..{self.action_space.n - 1}, "
                f"got {type(action).__name__} {action!r}"
            )
        action = int(action)
        if not 0 <= action < self.action_space.n:
            raise ValueError(
                f"action {action} is outside the action space Discrete({self.action_space.n}) of "
                f"{self.game.id}"
            )
        return action

    def _opponent_index(self, player: int) -> int:
        return player if player < self.seat else player - 1

    def _act(self, index: int, observation: dict[str, Any]) -> Any:
        """``agent.act(observation)`` for opponent ``index``, run with this env's generator for it."""
        agent = self.opponents[index]
        mine = self._opponent_rngs[index]
        if mine is None:  # an agent without a generator of its own
            return agent.act(observation)
        previous = agent.rng
        agent.rng = mine
        try:
            return agent.act(observation)
        finally:
            mine = agent.rng  # the agent may have replaced its generator while acting
            for i, other in enumerate(self.opponents):
                if other is agent:
                    self._opponent_rngs[i] = mine
            agent.rng = previous

    def _opponent_move(self, player: int, info: dict[str, Any]) -> int | None:
        """The move of the opponent in ``player``'s seat, or None after it forfeited.

        An invalid reply (a text answer that names no legal move, a tensor agent's move that is not
        legal, or an agent raising :class:`~redqueen.IllegalAction`) makes the opponent forfeit, as the
        match runner scores it by default: the game ends and ``info["opponent_forfeit"]`` says why.
        """
        state = self.state
        assert state is not None
        index = self._opponent_index(player)
        agent = self.opponents[index]
        observation = agent_observation(state, player, agent.view)
        try:
            return reply_to_action(state, player, self._act(index, observation), agent.view)
        except IllegalAction as err:
            state.forfeit(player)
            info["opponent_forfeit"] = f"player {player} ({agent.name}) forfeits: {err}"
            return None

    def _play_opponents(self, info: dict[str, Any]) -> None:
        """Let the opponents move until the learner is to move or the game is over."""
        state = self.state
        assert state is not None
        seat = self.seat
        while not state.is_terminal():
            player = state.current_player
            if player == seat:
                return
            if player == SIMULTANEOUS:
                live = [p for p in range(self.game.num_players) if state.legal_actions(p)]
                if seat in live:
                    return
                moves = {}
                for p in live:
                    move = self._opponent_move(p, info)
                    if move is None:
                        return
                    moves[p] = move
                state.apply_actions(moves)
            elif player >= 0:
                move = self._opponent_move(player, info)
                if move is None:
                    return
                state.apply_action(move)
            else:
                what = "a chance node" if player == CHANCE else f"current_player {player}"
                raise RuntimeError(f"{self.game.id} state reached {what}, which the env cannot play")

    def __repr__(self) -> str:
        names = ", ".join(a.name for a in self.opponents)
        return f"SingleAgentEnv({self.game!r}, opponent={names}, seat={self.seat_mode!r})"
