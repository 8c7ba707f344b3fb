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

__all__ = [
    "MODES",
    "MODIFIERS",
    "OPCODES",
    "RedcodeError",
    "Settings",
    "Warrior",
    "assemble",
    "parse_load_file",
]
