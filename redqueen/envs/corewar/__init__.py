"""Core War: an ICWS'94 Redcode assembler and a MARS with pMARS 0.9.4's semantics.

Public API (kept stable for scripts outside the project)::

    from redqueen.envs.corewar import assemble, battle, Settings, RedcodeError

``assemble(text, settings=Settings()) -> Warrior`` and ``battle(warriors, rounds=1,
fixed_position=None, seed=None, settings=Settings()) -> BattleResult``.
"""

from __future__ import annotations

from redqueen.envs.corewar.core import (
    MODES,
    MODIFIERS,
    OPCODES,
    RedcodeError,
    Settings,
    Warrior,
    parse_load_file,
)
from redqueen.envs.corewar.redcode import assemble

# the MARS (numba) and the warrior library load on first use, so the assembler alone stays light
_LAZY = {
    "battle": "redqueen.envs.corewar.mars",
    "BattleResult": "redqueen.envs.corewar.mars",
    "RoundResult": "redqueen.envs.corewar.mars",
    "Mars": "redqueen.envs.corewar.mars",
    "pmars_rng": "redqueen.envs.corewar.mars",
    "CoreWar": "redqueen.envs.corewar.game",
    "WarriorAgent": "redqueen.envs.corewar.agents",
}


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "warriors":
        return importlib.import_module("redqueen.envs.corewar.warriors")
    raise AttributeError(f"module 'redqueen.envs.corewar' has no attribute {name!r}")


__all__ = [
    "MODES",
    "MODIFIERS",
    "OPCODES",
    "BattleResult",
    "CoreWar",
    "Mars",
    "RedcodeError",
    "RoundResult",
    "Settings",
    "Warrior",
    "WarriorAgent",
    "assemble",
    "battle",
    "parse_load_file",
    "pmars_rng",
]
