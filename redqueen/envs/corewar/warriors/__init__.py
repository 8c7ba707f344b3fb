"""A small library of classic Core War warriors, written for redqueen, and loaders for ``.red`` files.

The warriors are ``.red`` files next to this module (package data), one per archetype; each starts
with ``;redcode-94``, ``;name``, ``;author redqueen``, ``;strategy`` and ``;assert`` lines and
explains its strategy in comments. They assemble without warnings under the default ("94nop")
:class:`~redqueen.envs.corewar.core.Settings`:

========== ==========================================================================================
name       strategy
========== ==========================================================================================
clear      core clear: DATs every cell but its own code, then rewrites its own pointer
dwarf      stone: a DAT on every fourth cell, forever
gate       dwarf plus two imp-gate processes that break imps crawling up to the code
imp        ``MOV.I $0, $1``: crawls forward one cell a turn
imp_ring   three-point imp ring (step 2667), launched in the right order
paper      replicator: copies itself, starts the copy, copies again elsewhere
scanner    SEQ scanner (every fifth cell) that bombs what it finds, then clears the core
silk       silk-style paper: eight processes in lockstep copy eight cells in one pass
stone      self-splitting mod-4 stone (SPL #0 feeding a DAT-bombing loop)
vampire    JMP fangs into a SPL pit; then shuts the pit and clears the core
========== ==========================================================================================

Functions:

* :func:`names` - the library's names; :func:`source` - a warrior's Redcode text;
* :func:`load` - one library warrior assembled; :func:`library` - all of them, by name;
* :func:`load_file` - a ``.red`` file; :func:`load_folder` - every ``.red`` file of a folder;
* :func:`resolve` - a :class:`~redqueen.envs.corewar.core.Warrior` from a Warrior, a library
  name, a path or Redcode text (what the hill evaluation and the ``redqueen corewar`` command take).

Errors: an unknown name raises :class:`UnknownWarriorError` listing the known names; a file that
does not assemble raises :class:`~redqueen.envs.corewar.core.RedcodeError` whose message starts with
the file's path and the assembler's line; :func:`load_folder` tries every file and raises one
:class:`WarriorFolderError` listing every file that failed (``strict=False`` skips them with a
warning instead).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from redqueen.envs.corewar.core import RedcodeError, Settings, Warrior
from redqueen.envs.corewar.redcode import assemble
from redqueen.game import RedqueenError

__all__ = [
    "UnknownWarriorError",
    "WarriorFolderError",
    "library",
    "load",
    "load_file",
    "load_folder",
    "names",
    "resolve",
    "resolve_many",
    "source",
]

DIRECTORY = Path(__file__).resolve().parent
"""Where the library's ``.red`` files are."""


class UnknownWarriorError(RedqueenError, LookupError):
    """A warrior name that is not in the library (the message lists the known names)."""


class WarriorFolderError(RedqueenError, ValueError):
    """Some ``.red`` files of a folder did not assemble.

    ``failures`` maps each failing file's name to the assembler's message (with its line);
    ``warriors`` holds the warriors of the files that did assemble, by file stem.
    """

    def __init__(self, folder: Path, failures: dict[str, str], warriors: dict[str, Warrior]):
        self.folder, self.failures, self.warriors = folder, failures, warriors
        lines = "\n".join(f"  {name}: {message}" for name, message in failures.items())
        super().__init__(f"{len(failures)} file(s) in {folder} did not assemble:\n{lines}")


def names() -> list[str]:
    """The library's warrior names (the ``.red`` file stems), sorted."""
    return sorted(path.stem for path in DIRECTORY.glob("*.red"))


def _path(name: str) -> Path:
    if not (isinstance(name, str) and _is_name(name)):
        raise UnknownWarriorError(f"no warrior named {name!r} in the library; known: {', '.join(names())}")
    return DIRECTORY / f"{name}.red"


def source(name: str) -> str:
    """The Redcode text of the library warrior ``name``."""
    return _path(name).read_text()


def load(name: str, settings: Settings | None = None) -> Warrior:
    """The library warrior ``name``, assembled with ``settings`` (default: the 94nop settings)."""
    return load_file(_path(name), settings)


def library(settings: Settings | None = None) -> dict[str, Warrior]:
    """Every library warrior, assembled, by name (sorted)."""
    return {name: load(name, settings) for name in names()}


def load_file(path: str | Path, settings: Settings | None = None) -> Warrior:
    """Assemble the ``.red`` file at ``path``.

    Raises :class:`FileNotFoundError` if there is no such file, and :class:`RedcodeError` whose
    message starts with the path when the text does not assemble (``line``/``column`` are kept).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no Redcode file at {path}")
    try:
        text = path.read_text()
    except UnicodeDecodeError as err:
        raise RedcodeError(f"{path}: not a text file ({err.reason})") from None
    try:
        return assemble(text, settings)
    except RedcodeError as err:
        located = RedcodeError(err.reason, err.line, err.column)
        located.args = (f"{path}: {err}",)  # "PATH: line L, column C: reason"
        raise located from None


def load_folder(
    path: str | Path, settings: Settings | None = None, *, strict: bool = True
) -> dict[str, Warrior]:
    """Every ``*.red`` file of the folder ``path`` (not its subfolders), assembled, by file stem (sorted).

    All files are tried. If some fail, ``strict=True`` (the default) raises one
    :class:`WarriorFolderError` that lists every failing file with the assembler's message (and
    carries the warriors that did assemble in ``.warriors``); ``strict=False`` returns the warriors
    that did assemble and emits one :class:`UserWarning` listing the failures.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise NotADirectoryError(f"no folder at {folder}")
    warriors: dict[str, Warrior] = {}
    failures: dict[str, str] = {}
    for file in sorted(folder.glob("*.red")):
        if not file.is_file():
            continue
        try:
            warriors[file.stem] = load_file(file, settings)
        except RedcodeError as err:
            failures[file.name] = str(err).removeprefix(f"{file}: ")
    if failures:
        error = WarriorFolderError(folder, failures, warriors)
        if strict:
            raise error
        warnings.warn(str(error), stacklevel=2)
    return warriors


def _is_name(text: str) -> bool:
    return isinstance(text, str) and text in names()


def _exists(text: str | Path, kind: str) -> bool:
    """``Path(text).is_file()`` / ``is_dir()`` that is False for text that cannot be a path."""
    if isinstance(text, str) and ("\n" in text or len(text) > 4096):
        return False
    try:
        path = Path(text)
        return path.is_file() if kind == "file" else path.is_dir()
    except (OSError, ValueError):  # too long, a NUL byte...
        return False


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and (text.endswith(".red") or "/" in text or "\\" in text)


def resolve(spec: Any, settings: Settings | None = None) -> Warrior:
    """A :class:`Warrior` from ``spec``: a Warrior (returned as it is), a :class:`~pathlib.Path`,
    or a string that is a library name, the path of a file, or Redcode text (tried in that order).

    Text of one line counts as Redcode only if it assembles to at least one instruction (``"jmp 0"``);
    otherwise (``"dwarff"``) :class:`UnknownWarriorError` is raised, naming the library warriors.
    Text of several lines is assembled (:class:`RedcodeError` if it does not assemble).
    """
    if isinstance(spec, Warrior):
        return spec
    if isinstance(spec, Path):
        return load_file(spec, settings)
    if not isinstance(spec, str):
        raise TypeError(
            f"a warrior is a Warrior, a library name, a path or Redcode text, not {type(spec).__name__}"
        )
    if _is_name(spec):
        return load(spec, settings)
    if _exists(spec, "file"):
        return load_file(spec, settings)
    if _looks_like_path(spec):
        raise FileNotFoundError(f"no Redcode file at {spec} (library warriors: {', '.join(names())})")
    if "\n" in spec.strip():
        return assemble(spec, settings)
    # one line: Redcode only if it is at least one instruction, else a mistyped name
    try:
        warrior = assemble(spec, settings)
    except RedcodeError as err:
        problem = f"; as Redcode: {err}"
    else:
        if len(warrior):
            return warrior
        problem = ""
    raise UnknownWarriorError(
        f"{spec!r} is not a library warrior ({', '.join(names())}), a file, or Redcode{problem}"
    )


def resolve_many(specs: Any, settings: Settings | None = None) -> dict[str, Warrior]:
    """Several warriors by name: ``specs`` is a mapping name -> spec, or a list of specs (see
    :func:`resolve`) where a folder stands for all its ``.red`` files (:func:`load_folder`). A list is
    named by library name, file stem or the warrior's ``;name``, with ``#2``, ``#3``... added to
    repeated names."""
    if isinstance(specs, Mapping):
        return {str(name): resolve(spec, settings) for name, spec in specs.items()}
    if isinstance(specs, str | Path | Warrior):
        specs = [specs]
    out: dict[str, Warrior] = {}

    def add(name: str, warrior: Warrior) -> None:
        base, k = name, 2
        while name in out:
            name, k = f"{base}#{k}", k + 1
        out[name] = warrior

    for spec in specs:
        if isinstance(spec, str | Path) and _exists(spec, "dir"):
            for name, warrior in load_folder(spec, settings).items():
                add(name, warrior)
            continue
        warrior = resolve(spec, settings)
        if isinstance(spec, str) and _is_name(spec):
            name = spec
        elif isinstance(spec, Path) or (isinstance(spec, str) and _exists(spec, "file")):
            name = Path(spec).stem
        else:
            name = warrior.name
        add(name, warrior)
    return out
