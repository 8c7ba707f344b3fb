"""An exact best response to a fixed policy, as an agent: the perfect exploiter of that policy.

``BestResponseAgent(target, "kuhn_poker")`` asks ``target`` (any agent that reports
:meth:`~redqueen.agents.Agent.action_probabilities`, or a policy table) for its policy at every
information state, hands it to OpenSpiel (:func:`redqueen.evaluation.openspiel_policy`) and walks
the game tree with OpenSpiel's ``BestResponsePolicy`` once per seat. It then plays, in every seat,
the move that wins most against ``target``; :attr:`values` are what those best responses win.
:meth:`update` recomputes it for a new target (a learner whose weights moved): a league uses it as an
*oracle exploiter*, PSRO's exact best-response oracle, for games OpenSpiel can solve.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redqueen.agents.base import Agent
from redqueen.game import Game, IllegalAction
from redqueen.registry import make_game


class BestResponseAgent(Agent):
    """Plays an exact best response to ``target`` in every seat (see the module docstring).

    Args:
        target: an agent reporting action probabilities (it plays every seat), a list of them (one
            per seat) or a policy table ``{information_state_key: {action: probability}}``.
        game: a game id or Game with an OpenSpiel counterpart (``game.openspiel_game()``).
    """

    name = "best-response"
    view = "tensor"

    def __init__(
        self, target: Any, game: str | Game = "kuhn_poker", name: str | None = None, seed: int | None = None
    ):
        super().__init__(name, seed)
        self.game = make_game(game) if isinstance(game, str) else game
        self.actions: dict[str, int] = {}
        self.values: list[float] = []
        self.update(target)

    def update(self, target: Any) -> None:
        """Recompute the best response against ``target``."""
        from open_spiel.python.algorithms.best_response import BestResponsePolicy

        from redqueen.evaluation import openspiel_policy

        tabular = openspiel_policy(target, self.game)
        og = tabular.game
        actions: dict[str, int] = {}
        values = []
        for player in range(og.num_players()):
            responder = BestResponsePolicy(og, player, tabular)
            values.append(float(responder.value(og.new_initial_state())))
            for key, index in tabular.state_lookup.items():
                state = tabular.states[index]
                if state.current_player() == player:
                    actions[key] = int(responder.best_response_action(key))
        self.actions = actions
        self.values = values

    def _action(self, observation: Mapping[str, Any]) -> int:
        key = observation.get("info_state")
        if key is None:
            raise ValueError("BestResponseAgent needs observations with an 'info_state' key")
        try:
            return self.actions[key]
        except KeyError:
            raise IllegalAction(f"no best-response move for information state {key!r}") from None

    def act(self, observation: Mapping[str, Any]) -> int:
        return self._action(observation)

    def action_probabilities(self, observation: Mapping[str, Any]) -> dict[int, float]:
        return {self._action(observation): 1.0}
