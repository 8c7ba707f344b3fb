"""Exact evaluation of policies: exploitability, NashConv, best responses and expected returns.

A *policy* here is any of

* one :class:`~redqueen.agents.Agent` that reports :meth:`~redqueen.agents.Agent.action_probabilities`
  (it plays every seat);
* a sequence of such agents, one per seat;
* a policy table ``{information_state_key: {action: probability}}`` (see :func:`policy_table`).

Two independent computations are offered:

* the **OpenSpiel bridge** (:func:`exploitability`, :func:`nash_conv`, :func:`openspiel_policy`):
  the policy is asked at every information state of the equal OpenSpiel game (each pyspiel history
  is replayed on a redqueen explicit-chance state, and the information-state keys must agree) and
  OpenSpiel's ``open_spiel.python.algorithms.exploitability`` judges the resulting ``TabularPolicy``;
* an **exact tree walk over redqueen's own engine** (:func:`best_response_values`,
  :func:`nash_conv_exact`, :func:`exploitability_exact`, :func:`expected_returns`), which needs no
  OpenSpiel and so also scores games without an OpenSpiel counterpart, such as multi-hand Kuhn poker.

Both use OpenSpiel's conventions: NashConv is the sum over players of what a best response gains over
the policy's own value, and exploitability is NashConv divided by the number of players (for
two-player zero-sum games: the mean of the two best-response values).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from redqueen.game import (
    CHANCE,
    SIMULTANEOUS,
    Game,
    IllegalAction,
    RedqueenError,
    State,
    agent_observation,
    state_from_history,
)
from redqueen.registry import make_game

__all__ = [
    "GameBridgeError",
    "PolicyTable",
    "best_response_values",
    "expected_returns",
    "exploitability",
    "exploitability_exact",
    "nash_conv",
    "nash_conv_exact",
    "openspiel_policy",
    "policy_table",
]

PolicyTable = dict[str, dict[int, float]]
"""``{information_state_key: {action: probability}}`` over the legal actions of each information state."""

SUM_TOLERANCE = 1e-6
DEFAULT_MAX_NODES = 2_000_000

# (state, player, information-state key) -> {legal action: probability}, summing to 1
_PolicyFn = Callable[[State, int, str], dict[int, float]]


class GameBridgeError(RedqueenError, RuntimeError):
    """A redqueen game and its OpenSpiel counterpart disagree (histories, players or information states)."""


# ---- inputs ------------------------------------------------------------------------------------------


def _as_game(game: str | Game) -> Game:
    if not isinstance(game, str | Game):
        raise TypeError(f"game must be a registry id or a redqueen Game, got {type(game).__name__}")
    return make_game(game)


def _agent_label(agent: Any) -> str:
    return f"{type(agent).__name__}(name={getattr(agent, 'name', '?')!r})"


def _is_agent_like(obj: Any) -> bool:
    return callable(getattr(obj, "action_probabilities", None))


def _seat_agents(policy: Any, num_players: int) -> list[Any]:
    if _is_agent_like(policy):
        return [policy] * num_players
    if isinstance(policy, Sequence) and not isinstance(policy, str):
        agents = list(policy)
        if len(agents) != num_players:
            raise ValueError(f"expected one agent per seat ({num_players}), got {len(agents)} agents")
        for seat, agent in enumerate(agents):
            if not _is_agent_like(agent):
                raise TypeError(
                    f"seat {seat}: {type(agent).__name__} is not an agent with action_probabilities()"
                )
        return agents
    raise TypeError(
        "policy must be an Agent, a sequence of one Agent per seat, or a policy table "
        f"{{info_state_key: {{action: probability}}}}; got {type(policy).__name__}"
    )


def _check_probs(
    raw: Any, state: State, player: int, key: str, who: str, parse_text: bool
) -> dict[int, float]:
    """Validate ``raw`` (action or move text -> probability) against the legal actions of ``player``.

    Missing legal actions count as 0; the result sums to exactly 1.
    """
    if not isinstance(raw, Mapping):
        raise TypeError(
            f"{who} returned {type(raw).__name__} at information state {key!r}; expected a mapping"
        )
    legal = state.legal_actions(player)
    out = dict.fromkeys(legal, 0.0)
    for move, value in raw.items():
        if isinstance(move, str) and parse_text:
            try:
                action = state.parse_action(player, move)
            except IllegalAction as err:
                raise ValueError(
                    f"{who}: move {move!r} at information state {key!r} is not legal: {err}"
                ) from None
        elif isinstance(move, int | np.integer) and not isinstance(move, bool):
            action = int(move)
        else:
            raise TypeError(f"{who}: key {move!r} at information state {key!r} is not an action index")
        try:
            prob = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{who}: probability {value!r} of {move!r} at {key!r} is not a number") from None
        if not math.isfinite(prob) or prob < -1e-12:
            raise ValueError(
                f"{who}: probability {prob!r} of {move!r} at information state {key!r} is invalid"
            )
        if action not in out:
            if prob > 1e-12:
                raise ValueError(
                    f"{who}: action {move!r} at information state {key!r} is not legal (legal: {legal})"
                )
            continue
        out[action] += max(prob, 0.0)
    total = sum(out.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(
            f"{who}: probabilities at information state {key!r} sum to {total!r}, not 1 (got {dict(raw)!r})"
        )
    return {a: p / total for a, p in out.items()}


def _policy_fn(policy: Any, game: Game, view: str | None) -> _PolicyFn:
    """A cached function giving the policy's action probabilities at an information state."""
    if view is not None and view not in ("tensor", "text"):
        raise ValueError(f"view must be None, 'tensor' or 'text', got {view!r}")
    cache: dict[str, dict[int, float]] = {}
    owner: dict[str, int] = {}

    def remember(key: str, player: int) -> None:
        seen = owner.setdefault(key, player)
        if seen != player:
            raise ValueError(
                f"information state key {key!r} belongs to both player {seen} and player {player}; "
                f"{game.id} keys must identify the player"
            )

    if isinstance(policy, Mapping):
        table = policy

        def from_table(state: State, player: int, key: str) -> dict[int, float]:
            probs = cache.get(key)
            if probs is None:
                remember(key, player)
                if key not in table:
                    raise KeyError(f"the policy table has no entry for information state {key!r}")
                probs = _check_probs(table[key], state, player, key, "policy table", parse_text=False)
                cache[key] = probs
            return probs

        return from_table

    agents = _seat_agents(policy, game.num_players)

    def from_agents(state: State, player: int, key: str) -> dict[int, float]:
        probs = cache.get(key)
        if probs is None:
            remember(key, player)
            agent = agents[player]
            agent_view = view or getattr(agent, "view", "tensor")
            obs = agent_observation(state, player, agent_view)
            who = _agent_label(agent)
            try:
                raw = agent.action_probabilities(obs)
            except NotImplementedError as err:
                raise TypeError(
                    f"{who} cannot be evaluated exactly: it does not report action probabilities ({err})"
                ) from err
            probs = _check_probs(raw, state, player, key, who, parse_text=agent_view == "text")
            cache[key] = probs
        return probs

    return from_agents


# ---- redqueen's own game tree ---------------------------------------------------------------------


class _Node:
    __slots__ = ("actions", "children", "key", "player", "probs", "returns")

    def __init__(self, player: int):
        self.player = player
        self.key = ""
        self.actions: list[int] = []
        self.children: list[_Node] = []
        self.probs: list[float] = []  # chance probabilities, or the policy at a decision node
        self.returns: np.ndarray | None = None


def _build_tree(game: Game, fn: _PolicyFn, max_nodes: int) -> _Node:
    """The explicit-chance game tree, with chance probabilities and the policy at every decision node."""
    if not game.has_information_states:
        raise ValueError(f"{game.id} does not define information states; it cannot be evaluated exactly")
    count = 0

    def build(state: State) -> _Node:
        nonlocal count
        count += 1
        if count > max_nodes:
            raise ValueError(
                f"the game tree of {game!r} has more than {max_nodes} nodes; too large for exact evaluation"
            )
        if state.is_terminal():
            node = _Node(-4)
            node.returns = np.asarray(state.returns(), dtype=np.float64)
            return node
        player = state.current_player
        node = _Node(player)
        if player == SIMULTANEOUS:
            raise ValueError(f"{game.id} has simultaneous moves; exact evaluation supports sequential games")
        if player == CHANCE:
            outcomes = state.chance_outcomes()
            node.actions = [a for a, _ in outcomes]
            node.probs = [float(p) for _, p in outcomes]
        else:
            node.key = state.information_state_key(player)
            policy = fn(state, player, node.key)
            node.actions = state.legal_actions(player)
            node.probs = [policy[a] for a in node.actions]
        for action in node.actions:
            child = state.clone()
            child.apply_action(action)
            node.children.append(build(child))
        return node

    return build(game.new_initial_state(explicit_chance=True))


def _iter_decisions(node: _Node):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.player >= 0:
            yield n
        stack.extend(n.children)


def _on_policy_values(node: _Node) -> np.ndarray:
    if node.returns is not None:
        return node.returns
    total = 0.0
    for p, child in zip(node.probs, node.children, strict=True):
        if p > 0.0:
            total = total + p * _on_policy_values(child)
    return np.asarray(total, dtype=np.float64)


def _best_response_value(root: _Node, br: int) -> float:
    """Value for ``br`` of a best response to the policy stored in the tree (standard tabular BR)."""
    infosets: dict[str, list[tuple[_Node, float]]] = {}
    stack: list[tuple[_Node, float]] = [(root, 1.0)]
    while stack:  # reach of every node by chance and the other players
        node, reach = stack.pop()
        if node.returns is not None:
            continue
        if node.player == br:
            infosets.setdefault(node.key, []).append((node, reach))
            stack.extend((child, reach) for child in node.children)
        else:
            stack.extend((child, reach * p) for p, child in zip(node.probs, node.children, strict=True))

    values: dict[int, float] = {}
    choice: dict[str, int] = {}

    def best_index(key: str) -> int:
        index = choice.get(key)
        if index is None:
            members = infosets[key]
            actions = members[0][0].actions
            for member, _ in members:
                if member.actions != actions:
                    raise ValueError(
                        f"information state {key!r} has different legal actions in its histories"
                    )
            totals = [
                sum(reach * value(member.children[i]) for member, reach in members)
                for i in range(len(actions))
            ]
            index = int(np.argmax(totals))
            choice[key] = index
        return index

    def value(node: _Node) -> float:
        cached = values.get(id(node))
        if cached is not None:
            return cached
        if node.returns is not None:
            result = float(node.returns[br])
        elif node.player == br:
            result = value(node.children[best_index(node.key)])
        else:
            result = sum(
                p * value(child) for p, child in zip(node.probs, node.children, strict=True) if p > 0.0
            )
        values[id(node)] = result
        return result

    return value(root)


def _tree(policy: Any, game: str | Game, view: str | None, max_nodes: int) -> tuple[Game, _Node]:
    g = _as_game(game)
    return g, _build_tree(g, _policy_fn(policy, g, view), max_nodes)


def policy_table(
    policy: Any,
    game: str | Game = "kuhn_poker",
    *,
    view: str | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> PolicyTable:
    """``{information_state_key: {action: probability}}`` of ``policy`` at every information state of
    ``game``, found by walking redqueen's explicit-chance game tree. ``view`` overrides the view the
    agents are given (default: each agent's own ``view``)."""
    _, root = _tree(policy, game, view, max_nodes)
    table: PolicyTable = {}
    for node in _iter_decisions(root):
        table.setdefault(node.key, dict(zip(node.actions, node.probs, strict=True)))
    return dict(sorted(table.items()))


def expected_returns(
    policy: Any,
    game: str | Game = "kuhn_poker",
    *,
    view: str | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> np.ndarray:
    """Exact expected return of every seat when ``policy`` (agents or a policy table) plays ``game``."""
    _, root = _tree(policy, game, view, max_nodes)
    return np.asarray(_on_policy_values(root), dtype=np.float64).copy()


def best_response_values(
    policy: Any,
    game: str | Game = "kuhn_poker",
    *,
    view: str | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> np.ndarray:
    """For each player, the value of a best response to the other players' parts of ``policy``.

    Computed over redqueen's own engine (no OpenSpiel): the explicit-chance tree is walked, histories
    are grouped by ``information_state_key``, and at each of the responder's information sets the action
    maximising the chance-and-opponent-reach-weighted sum of child values is chosen.
    """
    g, root = _tree(policy, game, view, max_nodes)
    return np.array([_best_response_value(root, p) for p in range(g.num_players)], dtype=np.float64)


def nash_conv_exact(
    policy: Any,
    game: str | Game = "kuhn_poker",
    *,
    view: str | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> float:
    """NashConv by redqueen's own tree walk: sum over players of (best-response value - policy value)."""
    g, root = _tree(policy, game, view, max_nodes)
    on_policy = np.asarray(_on_policy_values(root), dtype=np.float64)
    br = np.array([_best_response_value(root, p) for p in range(g.num_players)])
    return float(np.sum(br - on_policy))


def exploitability_exact(
    policy: Any,
    game: str | Game = "kuhn_poker",
    *,
    view: str | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> float:
    """Exploitability by redqueen's own tree walk: NashConv / number of players (zero-sum games only)."""
    g = _as_game(game)
    if not g.zero_sum:
        raise ValueError(f"exploitability is defined for zero-sum games; {g.id} is not (use nash_conv_exact)")
    return nash_conv_exact(policy, g, view=view, max_nodes=max_nodes) / g.num_players


# ---- the OpenSpiel bridge -------------------------------------------------------------------------


def _openspiel_game(game: Game) -> Any:
    og = game.openspiel_game()
    if og is None:
        raise ValueError(
            f"{game!r} has no OpenSpiel counterpart, so OpenSpiel cannot judge it; "
            "use exploitability_exact / nash_conv_exact, which walk redqueen's own game tree"
        )
    return og


def openspiel_policy(policy: Any, game: str | Game = "kuhn_poker", *, view: str | None = None) -> Any:
    """``policy`` as an ``open_spiel.python.policy.TabularPolicy`` of ``game.openspiel_game()``.

    Every OpenSpiel information state is replayed on a redqueen explicit-chance state; a replay that
    fails, or whose player, legal actions or information-state key differ from OpenSpiel's, raises
    :class:`GameBridgeError`.
    """
    from open_spiel.python.policy import TabularPolicy

    g = _as_game(game)
    og = _openspiel_game(g)
    fn = _policy_fn(policy, g, view)
    tabular = TabularPolicy(og)
    for os_state in tabular.states:
        history = os_state.history()
        player = os_state.current_player()
        os_key = os_state.information_state_string(player)
        try:
            state = state_from_history(g, history)
        except (RedqueenError, ValueError) as err:
            raise GameBridgeError(
                f"{g.id}: OpenSpiel history {history} does not replay on redqueen: {err}"
            ) from err
        if state.current_player != player:
            raise GameBridgeError(
                f"{g.id}: after history {history} OpenSpiel has player {player} to move, "
                f"redqueen has {state.current_player}"
            )
        key = state.information_state_key(player)
        if key != os_key:
            raise GameBridgeError(
                f"{g.id}: after history {history} redqueen's information state key {key!r} differs from "
                f"OpenSpiel's information_state_string {os_key!r}"
            )
        legal = state.legal_actions(player)
        if legal != list(os_state.legal_actions(player)):
            raise GameBridgeError(
                f"{g.id}: legal actions at {key!r} differ: "
                f"redqueen {legal}, OpenSpiel {os_state.legal_actions(player)}"
            )
        probs = fn(state, player, key)
        row = np.zeros(og.num_distinct_actions(), dtype=np.float64)
        for action, p in probs.items():
            row[action] = p
        tabular.action_probability_array[tabular.state_lookup[os_key]] = row
    return tabular


def exploitability(policy: Any, game: str | Game = "kuhn_poker", *, view: str | None = None) -> float:
    """OpenSpiel's exploitability of ``policy`` (agents or a policy table) in ``game``.

    For two-player zero-sum games: the mean over both players of what a best response wins against
    the policy; 0 exactly at a Nash equilibrium.
    """
    from open_spiel.python.algorithms import exploitability as os_exploitability

    g = _as_game(game)
    tabular = openspiel_policy(policy, g, view=view)
    return float(os_exploitability.exploitability(tabular.game, tabular))


def nash_conv(policy: Any, game: str | Game = "kuhn_poker", *, view: str | None = None) -> float:
    """OpenSpiel's NashConv of ``policy`` (agents or a policy table) in ``game``."""
    from open_spiel.python.algorithms import exploitability as os_exploitability

    g = _as_game(game)
    tabular = openspiel_policy(policy, g, view=view)
    return float(os_exploitability.nash_conv(tabular.game, tabular))
