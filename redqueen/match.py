"""The match runner: agents (text or tensor) play a game several times; :func:`play` scores them.

Seeding, exactly:

* ``seed`` (an int; when None one is drawn from fresh entropy and recorded in
  :attr:`MatchResult.seed`) makes ``numpy.random.default_rng(seed)``, which draws one 63-bit
  *game seed* per game up front: ``seeds = rng.integers(0, 2**63 - 1, size=n_games)``. Game ``k``
  depends only on ``seeds[k]`` (and on the agents), never on the games played before it, and the
  first ``k`` seeds do not depend on ``n_games``.
* With ``swap_seats=True`` the games are played in blocks of ``num_players`` consecutive games that
  share the first game seed of the block (so both seatings of a two-player game see the same deal;
  the "duplicate" format that removes the luck of the cards from comparisons).
* Game ``k`` makes ``g = numpy.random.default_rng(seeds[k])`` and draws
  ``g.integers(0, 2**63 - 1, size=2 + n_agents)``: the first number seeds the game state (its chance
  events), the second the runner's own generator (the random fallback of ``invalid="random"``), and
  number ``2 + i`` is passed to ``agents[i].reset(seed=...)`` before the game starts.
* An agent given by short name is built once, with
  ``make_agent(name, game, seed=default_rng([seed, i]).integers(2**63 - 1))``.

Seats: without ``swap_seats``, seat ``i`` is ``agents[i]`` in every game. With ``swap_seats=True``
the seating rotates: in game ``k``, seat ``s`` is ``agents[(s + k) % n]`` (two players: the agents
swap seats every game). Every per-agent array of :class:`MatchResult` is indexed by the agent's
position in ``agents`` whatever seat it had; :attr:`MatchResult.seatings` says who sat where.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from redqueen.agents import Agent, AgentError, make_agent
from redqueen.answers import InvalidAnswerPolicy, InvalidMode, retry_prompt
from redqueen.game import CHANCE, SIMULTANEOUS, Game, IllegalAction, State, agent_observation, reply_to_action
from redqueen.registry import make_game

_SEED_HIGH = 2**63 - 1
_FORFEIT = object()  # marker: the agent forfeited the game


@dataclass
class MatchResult:
    """Outcome of :func:`play`. Arrays with an agent axis are indexed like the ``agents`` list."""

    game_id: str
    agent_names: list[str]
    returns: np.ndarray
    """(n_games, n_agents) float: each agent's return in each game, penalties subtracted."""
    invalid_answers: np.ndarray
    """(n_agents,) int: invalid answers of each agent over the whole match."""
    invalid_per_game: np.ndarray
    """(n_games, n_agents) int: invalid answers of each agent in each game."""
    lengths: np.ndarray
    """(n_games,) int: moves played (player decisions applied to the state) in each game."""
    seeds: list[int]
    """Game seed of each game (see the module docstring)."""
    seatings: np.ndarray
    """(n_games, n_seats) int: ``seatings[k, s]`` is the index of the agent in seat ``s`` of game k."""
    seed: int | None = None
    """The match seed that generated ``seeds``."""
    invalid_policy: InvalidAnswerPolicy = field(default_factory=InvalidAnswerPolicy)
    swap_seats: bool = False
    transcripts: list[list[dict[str, Any]]] | None = None
    """With ``transcript=True``, one list of turn records per game (see :func:`play`)."""
    game_indices: list[int] | None = None
    """Place of each row in the match's schedule; None means rows ``0..n_games-1``. Set on the partial
    result of a match stopped by an :class:`~redqueen.agents.AgentError`, which holds only the games
    played to the end."""
    not_played: list[int] = field(default_factory=list)
    """Places in the schedule of the games that were not played (or not to the end)."""

    @property
    def n_games(self) -> int:
        return int(self.returns.shape[0])

    @property
    def indices(self) -> list[int]:
        """Place of each row in the match's schedule (see :attr:`game_indices`)."""
        return list(range(self.n_games)) if self.game_indices is None else list(self.game_indices)

    @property
    def mean_returns(self) -> np.ndarray:
        """Mean return of each agent over the games."""
        return self.returns.mean(axis=0)

    def _top(self) -> tuple[np.ndarray, np.ndarray]:
        best = self.returns.max(axis=1, keepdims=True)
        at_top = self.returns == best
        shared = at_top.sum(axis=1, keepdims=True) > 1
        return at_top, shared

    @property
    def wins(self) -> np.ndarray:
        """Games in which each agent had the strictly highest return."""
        at_top, shared = self._top()
        return (at_top & ~shared).sum(axis=0)

    @property
    def draws(self) -> np.ndarray:
        """Games in which each agent shared the highest return with another agent."""
        at_top, shared = self._top()
        return (at_top & shared).sum(axis=0)

    @property
    def losses(self) -> np.ndarray:
        """Games in which each agent's return was below the highest."""
        at_top, _ = self._top()
        return (~at_top).sum(axis=0)

    def summary(self) -> str:
        """A short text report: one line per agent with mean return, W/D/L and invalid answers."""
        seating = ", seats rotated every game" if self.swap_seats else ""
        lines = [
            f"{self.game_id}: {self.n_games} game{'s' if self.n_games != 1 else ''}, "
            f"seed {self.seed}{seating}, invalid answers: {self.invalid_policy.mode}"
        ]
        if self.not_played:
            lines[0] += f"; {len(self.not_played)} not played (stopped by an agent error)"
        width = max(len(n) for n in self.agent_names)
        mean, std = self.mean_returns, self.returns.std(axis=0)
        wins, draws, losses = self.wins, self.draws, self.losses
        for i, name in enumerate(self.agent_names):
            lines.append(
                f"  {name:<{width}}  mean return {mean[i]:+.3f} (sd {std[i]:.3f})  "
                f"W {wins[i]}  D {draws[i]}  L {losses[i]}  invalid {self.invalid_answers[i]}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (lists, ints, floats, strings)."""
        policy = self.invalid_policy
        out: dict[str, Any] = {
            "game_id": self.game_id,
            "agent_names": list(self.agent_names),
            "n_games": self.n_games,
            "seed": self.seed,
            "swap_seats": self.swap_seats,
            "invalid_policy": {
                "mode": policy.mode,
                "max_retries": policy.max_retries,
                "penalty": policy.penalty,
            },
            "mean_returns": [float(x) for x in self.mean_returns],
            "wins": [int(x) for x in self.wins],
            "draws": [int(x) for x in self.draws],
            "losses": [int(x) for x in self.losses],
            "invalid_answers": [int(x) for x in self.invalid_answers],
            "returns": self.returns.tolist(),
            "invalid_per_game": self.invalid_per_game.tolist(),
            "lengths": self.lengths.tolist(),
            "seeds": [int(s) for s in self.seeds],
            "seatings": self.seatings.tolist(),
            "game_indices": list(self.indices),
            "not_played": list(self.not_played),
        }
        if self.transcripts is not None:
            out["transcripts"] = self.transcripts
        return out


def _json_reply(reply: Any) -> Any:
    if isinstance(reply, str | bool | float | int | type(None)):
        return reply
    if isinstance(reply, np.integer):
        return int(reply)
    return repr(reply)


def _check_count(value: Any, what: str) -> int:
    try:
        count = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer, got {value!r}") from None
    if isinstance(value, bool) or count < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return count


def _resolve_agents(agents: Sequence[Agent | str], game: Game, seed: int) -> list[Agent]:
    if isinstance(agents, str | Agent) or not isinstance(agents, Sequence):
        raise TypeError(
            f"agents must be a list with one Agent (or short agent name) per seat, got {agents!r}"
        )
    n = game.num_players
    if len(agents) != n:
        raise ValueError(
            f"{game.id} is played by {n} players: give {n} agents (one per seat), got {len(agents)}"
        )
    resolved = []
    for i, spec in enumerate(agents):
        if isinstance(spec, str):
            agent_seed = int(np.random.default_rng([seed, i]).integers(_SEED_HIGH))
            resolved.append(make_agent(spec, game, seed=agent_seed))
        elif isinstance(spec, Agent):
            resolved.append(spec)
        else:
            raise TypeError(f"agents[{i}] must be an Agent or a short agent name, got {spec!r}")
        if resolved[-1].view not in ("tensor", "text"):
            raise ValueError(f"agents[{i}] ({resolved[-1].name!r}) has unknown view {resolved[-1].view!r}")
    return resolved


def _unique_names(agents: Sequence[Agent]) -> list[str]:
    names = [str(a.name) for a in agents]
    return [f"{n}#{i}" if names.count(n) > 1 else n for i, n in enumerate(names)]


class _GameRunner:
    """Plays one game; holds the per-game bookkeeping."""

    def __init__(
        self,
        state: State,
        seated: list[Agent],
        names: list[str],
        policy: InvalidAnswerPolicy,
        rng: np.random.Generator,
        game_index: int,
        record: bool,
    ):
        self.state = state
        self.seated = seated  # agent in each seat
        self.names = names  # display name of the agent in each seat
        self.policy = policy
        self.rng = rng
        self.game_index = game_index
        n = len(seated)
        self.invalid = np.zeros(n, dtype=np.int64)  # by seat
        self.penalty = np.zeros(n, dtype=np.float64)  # by seat
        self.length = 0
        self.records: list[dict[str, Any]] | None = [] if record else None

    def _annotate(self, err: BaseException, seat: int, during: str) -> None:
        err.add_note(
            f"raised by agent {self.names[seat]!r} (seat {seat}) during {during} "
            f"in game {self.game_index} of the match"
        )

    def decide(self, seat: int) -> Any:
        """The action of the agent in ``seat``, after the invalid-answer policy; or _FORFEIT."""
        state, agent, policy = self.state, self.seated[seat], self.policy
        obs = agent_observation(state, seat, agent.view)
        prompt = base_prompt = obs.get("text")
        attempt = 0
        while True:
            try:
                reply = agent.act(obs)
            except IllegalAction as err:  # the agent itself says it has no legal move
                reply, reason = None, str(err)
            except Exception as err:
                self._annotate(err, seat, "act()")
                raise
            else:
                try:
                    action = reply_to_action(self.state, seat, reply, agent.view)
                except IllegalAction as err:
                    reason = str(err)
                else:
                    self._log(seat, prompt, reply, action, "played")
                    return action
            # an invalid answer
            self.invalid[seat] += 1
            if policy.mode == "random":
                legal = state.legal_actions(seat)
                action = int(legal[int(self.rng.integers(len(legal)))])
                self._log(seat, prompt, reply, action, "random", reason)
                return action
            if policy.mode == "retry":
                self.penalty[seat] += policy.penalty
                attempt += 1
                if attempt <= policy.max_retries:
                    self._log(seat, prompt, reply, None, "retry", reason)
                    if base_prompt is not None:  # the first prompt and only the latest reason, as TextEnv
                        obs = dict(obs)
                        obs["text"] = retry_prompt(base_prompt, reason, attempt, policy.max_retries)
                        prompt = obs["text"]
                    continue
            self._log(seat, prompt, reply, None, "forfeit", reason)
            return _FORFEIT

    def _log(
        self,
        seat: int,
        prompt: str | None,
        reply: Any,
        action: int | None,
        outcome: str,
        reason: str | None = None,
    ) -> None:
        if self.records is None:
            return
        move = None
        if action is not None:
            try:
                move = self.state.action_to_text(seat, action)
            except Exception:
                move = None
        self.records.append(
            {
                "player": seat,
                "agent": self.names[seat],
                "observation": prompt,
                "reply": _json_reply(reply),
                "action": action,
                "move": move,
                "invalid": outcome != "played",
                "reason": reason,
                "outcome": outcome,
            }
        )

    def run(self) -> None:
        state = self.state
        while not state.is_terminal():
            player = state.current_player
            if player == SIMULTANEOUS:
                actions = {}
                for seat in range(len(self.seated)):
                    if state.legal_actions(seat):
                        action = self.decide(seat)
                        if action is _FORFEIT:
                            state.forfeit(seat)
                            return
                        actions[seat] = action
                state.apply_actions(actions)
                self.length += len(actions)
            elif player == CHANCE:
                raise RuntimeError(
                    f"{state.game.id}: the runner plays implicit-chance states, but the state stopped at a "
                    "chance node"
                )
            else:
                action = self.decide(player)
                if action is _FORFEIT:
                    state.forfeit(player)
                    return
                state.apply_action(action)
                self.length += 1


def _play_concurrently(
    n_games: int,
    concurrency: int,
    roster: list[Agent],
    play_game: Callable[[int, list[Agent]], _GameRunner],
    finish: Callable[[int, _GameRunner], None],
) -> None:
    """Play games ``0..n_games-1`` in ``concurrency`` threads, each with its own forks of the agents;
    ``finish`` runs in the calling thread as games end."""
    import queue
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    copies: queue.SimpleQueue[list[Agent]] = queue.SimpleQueue()
    for _ in range(min(concurrency, n_games)):
        copies.put([agent.fork() for agent in roster])

    def run(k: int) -> _GameRunner:
        seated = copies.get()
        try:
            return play_game(k, seated)
        finally:
            copies.put(seated)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        pending = {pool.submit(run, k): k for k in range(n_games)}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    k = pending.pop(future)
                    finish(k, future.result())
        finally:
            for future in pending:
                future.cancel()


def play(
    game: str | Game,
    agents: Sequence[Agent | str],
    n_games: int = 1,
    seed: int | None = None,
    *,
    invalid: InvalidMode | InvalidAnswerPolicy = "forfeit",
    swap_seats: bool = False,
    progress: bool = False,
    transcript: bool = False,
    on_game_end: Callable[[int, State, np.ndarray], None] | None = None,
    concurrency: int = 1,
    **game_params: Any,
) -> MatchResult:
    """Play ``n_games`` games of ``game`` between ``agents`` and score them.

    ``game`` is a registry id (``"kuhn_poker"``, ``"tictactoe"``; ``game_params`` go to its factory,
    e.g. ``rounds=3``) or a :class:`~redqueen.game.Game`. ``agents`` holds one :class:`Agent` or short
    agent name (see :func:`redqueen.agents.make_agent`) per seat; seat ``i`` is ``agents[i]`` unless
    ``swap_seats`` (see the module docstring, which also says exactly how ``seed`` is used).

    Each turn the agent to move gets ``agent_observation(state, player, agent.view)``. A tensor agent
    answers an action index; a text agent answers text, which ``state.parse_action`` turns into an
    action. An answer that is no legal move (or an agent raising :class:`IllegalAction`) is an invalid
    answer, handled by ``invalid`` (an :class:`~redqueen.answers.InvalidAnswerPolicy` or its mode):
    ``"forfeit"`` ends the game with the offender on the game's minimum return; ``"retry"`` asks
    again (text agents see :func:`~redqueen.answers.retry_prompt` in place of ``obs["text"]``),
    subtracts ``penalty`` from the offender's return for each invalid answer and forfeits after
    ``max_retries`` retries; ``"random"`` plays a uniformly random legal move from the runner's
    generator. Any other exception raised by an agent propagates, with a note naming the agent and
    the game index. An :class:`~redqueen.agents.AgentError` (the agent could not answer at all: its
    model server died or timed out after every retry) stops the match; the game it happened in is
    not played, and the games played to the end are on the error as ``err.result``, a partial
    :class:`MatchResult` whose ``game_indices`` and ``not_played`` say which games are which.

    ``transcript=True`` records, per game, one dict per answer: ``player`` (seat), ``agent``,
    ``observation`` (the prompt, text agents only), ``reply``, ``action`` (played, or None),
    ``move`` (its text), ``invalid``, ``reason`` and ``outcome`` ("played", "retry", "random" or
    "forfeit"). ``progress=True`` shows a rich progress bar. ``on_game_end(k, state, returns)`` is
    called after each game with the final state and the returns indexed by agent.

    ``concurrency=N`` plays up to N games at once in threads, for agents that wait on something (a
    model server: N requests in flight instead of one). Each thread plays with its own copies of the
    agents (:meth:`~redqueen.agents.Agent.fork`); the results are the same as with
    ``concurrency=1``, game for game, since every game depends only on its seed. ``on_game_end`` is
    then called as games finish, in any order, from the calling thread.
    """
    policy = InvalidAnswerPolicy.coerce(invalid)
    the_game = make_game(game, **game_params)
    n_games = _check_count(n_games, "n_games")
    concurrency = _check_count(concurrency, "concurrency")
    if seed is None:
        seed = int(np.random.default_rng().integers(_SEED_HIGH))
    else:
        try:
            if isinstance(seed, bool | np.bool_):
                raise TypeError
            seed = operator.index(seed)
        except TypeError:
            raise TypeError(f"seed must be an integer or None, got {seed!r}") from None
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
    players = the_game.num_players
    roster = _resolve_agents(agents, the_game, seed)
    names = _unique_names(roster)

    drawn = np.random.default_rng(seed).integers(0, _SEED_HIGH, size=n_games)
    if swap_seats:
        drawn = drawn[(np.arange(n_games) // players) * players]
    seeds = [int(s) for s in drawn]
    seatings = np.empty((n_games, players), dtype=np.int64)
    for k in range(n_games):
        shift = k % players if swap_seats else 0
        seatings[k] = (np.arange(players) + shift) % players

    returns = np.zeros((n_games, players), dtype=np.float64)
    invalid_per_game = np.zeros((n_games, players), dtype=np.int64)
    lengths = np.zeros(n_games, dtype=np.int64)

    bar = None
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task(f"{the_game.id}: {' vs '.join(names)}", total=n_games)
        bar.start()

    def play_game(k: int, seated: list[Agent]) -> _GameRunner:
        state_seed, runner_seed, *agent_seeds = (
            int(s) for s in np.random.default_rng(seeds[k]).integers(0, _SEED_HIGH, size=2 + players)
        )
        for i, agent in enumerate(seated):
            try:
                agent.reset(seed=agent_seeds[i])
            except Exception as err:
                err.add_note(f"raised by agent {names[i]!r} during reset() before game {k} of the match")
                raise
        order = seatings[k]
        runner = _GameRunner(
            the_game.new_initial_state(state_seed),
            [seated[a] for a in order],
            [names[a] for a in order],
            policy,
            np.random.default_rng(runner_seed),
            k,
            transcript,
        )
        runner.run()
        return runner

    records: list[list[dict[str, Any]]] = [[] for _ in range(n_games)]
    finished = np.zeros(n_games, dtype=bool)

    def finish(k: int, runner: _GameRunner) -> None:
        finished[k] = True
        order = seatings[k]
        returns[k, order] = runner.state.returns() - runner.penalty
        invalid_per_game[k, order] = runner.invalid
        lengths[k] = runner.length
        records[k] = runner.records or []
        if on_game_end is not None:
            on_game_end(k, runner.state, returns[k].copy())
        if bar is not None:
            bar.advance(task)

    def result(rows: np.ndarray) -> MatchResult:
        partial = not bool(rows.all())
        return MatchResult(
            game_id=the_game.id,
            agent_names=names,
            returns=returns[rows],
            invalid_answers=invalid_per_game[rows].sum(axis=0),
            invalid_per_game=invalid_per_game[rows],
            lengths=lengths[rows],
            seeds=[s for s, keep in zip(seeds, rows, strict=True) if keep],
            seatings=seatings[rows],
            seed=seed,
            invalid_policy=policy,
            swap_seats=bool(swap_seats),
            transcripts=[r for r, keep in zip(records, rows, strict=True) if keep] if transcript else None,
            game_indices=[int(k) for k in np.flatnonzero(rows)] if partial else None,
            not_played=[int(k) for k in np.flatnonzero(~rows)],
        )

    try:
        if concurrency == 1:
            for k in range(n_games):
                finish(k, play_game(k, roster))
        else:
            _play_concurrently(n_games, concurrency, roster, play_game, finish)
    except AgentError as err:
        # an agent could not answer at all (a dead model server): the games it broke are not played,
        # and the ones played to the end are kept, on the error, as a partial result
        err.result = result(finished.copy())  # type: ignore[attr-defined]
        err.add_note(
            f"the match stopped: {int(finished.sum())} of {n_games} games played to the end (in "
            "err.result); the others are not played"
        )
        raise
    finally:
        if bar is not None:
            bar.stop()
    return result(finished)
