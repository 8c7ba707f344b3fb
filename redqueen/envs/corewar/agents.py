"""Agents that play Core War with fixed warriors: the opponents of the single-agent view.

``WarriorAgent(["imp", "dwarf"])`` answers with one warrior of its list per game, drawn uniformly from
the agent's generator when the game starts (the match runner and the Gymnasium env reset agents with
a seed per game, so a game's seed fixes its opponent warrior). A warrior is a
library name (:mod:`redqueen.envs.corewar.warriors`), Redcode text or an assembled
:class:`~redqueen.envs.corewar.Warrior`. It is a text agent: it answers the warrior's source, which
the game assembles, so any program can be an opponent::

    env = gym.make("redqueen/CoreWar-v0", opponent=WarriorAgent(["imp", "stone", "paper"]))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from redqueen.agents.base import Agent
from redqueen.envs.corewar.core import Warrior


def _source(warrior: str | Warrior) -> str:
    if isinstance(warrior, Warrior):
        return warrior.source.strip() or warrior.load_file()
    if not isinstance(warrior, str) or not warrior.strip():
        raise ValueError(f"a warrior is a library name, Redcode text or a Warrior, got {warrior!r:.60}")
    if "\n" in warrior or " " in warrior.strip():
        return warrior  # Redcode text
    from redqueen.envs.corewar import warriors as library

    return library.source(warrior)


class WarriorAgent(Agent):
    """Plays warriors from a fixed list (see the module docstring)."""

    name = "warriors"
    view = "text"

    def __init__(
        self,
        warriors: str | Warrior | Sequence[str | Warrior],
        name: str | None = None,
        seed: int | None = None,
    ):
        if isinstance(warriors, str | Warrior):
            warriors = [warriors]
        items = list(warriors)
        if not items:
            raise ValueError("WarriorAgent needs at least one warrior")
        self.sources = [f"```redcode\n{_source(w).strip()}\n```" for w in items]
        self._pick: int | None = None
        label = name or ",".join(w if isinstance(w, str) and "\n" not in w else "warrior" for w in items)[:40]
        super().__init__(label, seed)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self._pick = int(self.rng.integers(len(self.sources)))

    def act(self, observation: Mapping[str, Any]) -> str:
        if self._pick is None:
            self._pick = int(self.rng.integers(len(self.sources)))
        return self.sources[self._pick]
