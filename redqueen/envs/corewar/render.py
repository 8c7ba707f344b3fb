"""Pictures of a Core War battle: core ownership over time as an animated GIF and a PNG.

Like pMARS's graphical display, every core cell is coloured by the warrior that last wrote it
(loading counts as writing; grey: never written), and the cells where a warrior has processes are
drawn in a light tint of its colour. The core is laid out row by row in a grid (100 columns, so 80
rows for the 8000-cell core), each cell ``cell`` x ``cell`` pixels, under a title bar with the
warriors' names in their colours, their process counts and the cycle.

* :func:`record` plays round 1 of a battle with the stepping :class:`~redqueen.envs.corewar.mars.Mars`
  (owner tracking on) and keeps snapshots (:class:`Frame`) of the owner array and the process
  queues: ``frames`` snapshots evenly spread over the battle (the first right after loading, the last
  at the end of the round), or one every ``every`` cycles;
* :func:`render_frame` draws one snapshot as a :class:`PIL.Image.Image` (palette mode, exact colours);
* :func:`save_gif` / :func:`save_png` write the animation / one frame (the last by default);
* :func:`cell_owners` reads a picture back into per-cell colour classes (for tests and checks).

Placement: warrior 0 at 0 and the others where :func:`~redqueen.envs.corewar.mars.battle` puts them in
round 1 for the same ``seed`` / ``fixed_position`` (``positions`` gives them directly); warrior 0 moves
first. ``seed`` here is the RNG seed of :func:`~redqueen.envs.corewar.mars.battle` (pMARS's generator);
the ``redqueen corewar`` command maps its ``--seed`` through
:func:`redqueen.evaluation.hill.pmars_seed` first, as ``redqueen corewar hill`` and ``battle`` do.

A cycle is one instruction of every living warrior (pMARS's cycle); the frames are taken at
instruction counts that are multiples of the number of warriors. Pillow is needed (it comes with
matplotlib: ``pip install 'redqueen[plots]'`` or ``pip install pillow``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from redqueen.envs.corewar.core import Settings
from redqueen.game import RedqueenError

__all__ = [
    "COLORS",
    "Frame",
    "Recording",
    "cell_owners",
    "record",
    "render_frame",
    "save_gif",
    "save_png",
]

COLORS: tuple[tuple[int, int, int], ...] = (
    (66, 135, 245),  # blue
    (245, 96, 66),  # red-orange
    (80, 200, 90),  # green
    (235, 200, 50),  # yellow
    (190, 90, 230),  # purple
    (40, 200, 210),  # cyan
    (240, 120, 190),  # pink
    (160, 160, 70),  # olive
)
"""Warrior colours, in warrior order (cycled for more than eight warriors)."""
BACKGROUND = (28, 28, 32)
"""Colour of cells nobody has written."""
TITLE_BACKGROUND = (12, 12, 14)
TEXT = (235, 235, 235)
DEFAULT_FRAMES = 100
MAX_FRAMES = 2000
"""The most snapshots one recording may hold (each keeps the owner array and the queues)."""
DEFAULT_CELL = 4
DEFAULT_COLUMNS = 100
TITLE_HEIGHT = 30


@dataclass(frozen=True)
class Frame:
    """A snapshot of the round after ``steps`` instructions (``cycle``: steps / warriors, rounded up)."""

    steps: int
    cycle: int
    owner: np.ndarray
    """Per cell: the warrior that last wrote it, -1 for nobody (int16)."""
    processes: tuple[np.ndarray, ...]
    """Per warrior: the addresses in its process queue, in execution order."""
    alive: tuple[bool, ...]


@dataclass
class Recording:
    """Snapshots of one round: ``frames`` in order, and what the round was."""

    names: list[str]
    positions: tuple[int, ...]
    frames: list[Frame]
    settings: Settings
    seed: int | None
    fixed_position: int | None
    steps: int
    """Instructions executed when the round ended."""
    survivors: list[int]
    lengths: list[int] = field(default_factory=list)

    @property
    def cycles(self) -> int:
        """Cycles played (pMARS's count: instructions / warriors, rounded up)."""
        n = max(len(self.names), 1)
        return -(-self.steps // n)

    @property
    def outcome(self) -> str:
        """``"NAME wins"``, ``"tie"`` or ``"all dead"`` (a lone warrior that died)."""
        if len(self.survivors) == 1 and len(self.names) > 1:
            return f"{self.names[self.survivors[0]]} wins"
        if not self.survivors:
            return "all dead"
        return "tie" if len(self.names) > 1 else "survived"


def _pil() -> Any:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib in every dev install
        raise RedqueenError(
            "Core War pictures need Pillow: pip install pillow (or pip install 'redqueen[plots]')"
        ) from None
    return Image, ImageDraw, ImageFont


def _frame_steps(total_steps: int, nwar: int, frames: int | None, every: int | None) -> list[int]:
    """The instruction counts at which to take snapshots (strictly increasing, 0 first, end last)."""
    total_cycles = -(-total_steps // nwar)
    if every is not None:
        cycles = list(range(0, total_cycles, every))
        if frames is not None:
            cycles = cycles[: frames - 1]
        steps = [c * nwar for c in cycles]
    else:
        count = DEFAULT_FRAMES if frames is None else frames
        if count == 1:
            return [total_steps]
        cycles = sorted({round(i * total_cycles / (count - 1)) for i in range(count)})
        steps = [c * nwar for c in cycles[:-1]]
    steps = [s for s in steps if s < total_steps]
    if len(steps) + 1 > MAX_FRAMES:
        raise ValueError(
            f"that makes {len(steps) + 1} frames; at most {MAX_FRAMES} (take a larger every, or cap frames)"
        )
    return [*steps, total_steps]


def _snapshot(mars: Any, nwar: int, steps: int) -> Frame:
    return Frame(
        steps=steps,
        cycle=-(-steps // nwar),
        owner=mars.owner.astype(np.int16),
        processes=tuple(np.asarray(q, dtype=np.int32) for q in mars.queues),
        alive=tuple(mars.alive),
    )


def record(
    warriors: Sequence[Any],
    *,
    seed: int | None = None,
    fixed_position: int | None = None,
    positions: Sequence[int] | None = None,
    frames: int | None = None,
    every: int | None = None,
    settings: Settings | None = None,
    names: Sequence[str] | None = None,
) -> Recording:
    """Play round 1 of a battle between ``warriors`` and keep snapshots (see the module docstring).

    ``frames`` (default 100): snapshots spread evenly over the round, the first after loading and
    the last at its end (fewer when the round has fewer cycles). ``every``: a snapshot every that
    many cycles instead (plus the end; ``frames`` then caps the count). ``positions``: load
    addresses (warrior 0's included) instead of ``seed``/``fixed_position``.
    """
    from redqueen.envs.corewar.mars import Mars, battle

    settings = settings or Settings()
    ws = list(warriors)
    if not ws:
        raise ValueError("record() needs at least one warrior")
    for name, value in (("frames", frames), ("every", every)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if frames is not None and frames > MAX_FRAMES:
        raise ValueError(f"frames must be at most {MAX_FRAMES}, got {frames}")
    nwar = len(ws)
    if positions is None:
        first = battle(ws, rounds=1, seed=seed, fixed_position=fixed_position, settings=settings)
        positions = [int(p) for p in first.positions[0]]
        seed = first.seed if fixed_position is None else seed
        expected_steps: int | None = first.steps[0]
    else:
        if seed is not None or fixed_position is not None:
            raise ValueError("give positions, or seed / fixed_position, not both")
        positions = [int(p) for p in positions]
        expected_steps = None
    mars = Mars(settings, track_owner=True)
    mars.load(ws, positions, first=0)
    if expected_steps is None:  # a first run to learn the round's length
        mars.run()
        expected_steps = mars.steps
        mars.load(ws, positions, first=0, reset_pspace=True)
    shots: list[Frame] = []
    for target in _frame_steps(expected_steps, nwar, frames, every):
        mars.run(target - mars.steps)
        shots.append(_snapshot(mars, nwar, mars.steps))
    if not mars.done:  # the snapshots stopped at the end of the round: finish it to be sure
        mars.run()
    if names is None:
        names = [str(getattr(w, "name", f"warrior {i + 1}")) for i, w in enumerate(ws)]
    elif len(names) != nwar:
        raise ValueError(f"{nwar} warriors but {len(names)} names")
    return Recording(
        names=list(names),
        positions=tuple(mars.positions),
        frames=shots,
        settings=settings,
        seed=seed,
        fixed_position=fixed_position,
        steps=mars.steps,
        survivors=list(mars.survivors),
        lengths=[len(w.instructions) for w in ws],
    )


# ---- drawing -------------------------------------------------------------------------------------


def _palette(nwar: int) -> list[tuple[int, int, int]]:
    """Palette entries: 0 background, 1 title bar, 2 text, then per warrior its colour and its tint."""
    colors = [COLORS[i % len(COLORS)] for i in range(nwar)]
    tints = [tuple(int(c + (255 - c) * 0.65) for c in color) for color in colors]
    return [BACKGROUND, TITLE_BACKGROUND, TEXT, *colors, *tints]


def _geometry(settings: Settings, columns: int) -> tuple[int, int]:
    m = settings.coresize
    return columns, -(-m // columns)


def _font(size: int) -> Any:
    _, _, ImageFont = _pil()
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def render_frame(
    recording: Recording,
    frame: int | Frame = -1,
    *,
    cell: int = DEFAULT_CELL,
    columns: int = DEFAULT_COLUMNS,
    title: bool = True,
) -> Any:
    """One snapshot (an index into ``recording.frames`` or a :class:`Frame`) as a palette-mode image.

    The grid starts ``TITLE_HEIGHT`` pixels down when ``title`` is on; cell ``a`` is at row
    ``a // columns``, column ``a % columns``.
    """
    Image, ImageDraw, _ = _pil()
    if isinstance(cell, bool) or not isinstance(cell, int) or cell < 1:
        raise ValueError(f"cell must be a positive int (pixels), got {cell!r}")
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive int, got {columns!r}")
    shot = recording.frames[frame] if not isinstance(frame, Frame) else frame
    nwar = len(recording.names)
    m = recording.settings.coresize
    cols, rows = _geometry(recording.settings, columns)
    index = np.zeros(cols * rows, dtype=np.uint8)
    owner = shot.owner.astype(np.int64)
    written = owner >= 0
    index[:m][written] = 3 + owner[written]
    for w, queue in enumerate(shot.processes):
        if len(queue):
            index[queue.astype(np.int64) % m] = 3 + nwar + w
    grid = index.reshape(rows, cols)
    pixels = np.repeat(np.repeat(grid, cell, axis=0), cell, axis=1)
    top = TITLE_HEIGHT if title else 0
    canvas = np.full((top + pixels.shape[0], pixels.shape[1]), 1, dtype=np.uint8)
    canvas[top:] = pixels
    image = Image.fromarray(canvas, mode="P")
    flat = [channel for color in _palette(nwar) for channel in color]
    image.putpalette(flat + [0] * (768 - len(flat)))
    if title:
        _draw_title(ImageDraw.Draw(image), recording, shot)
    return image


def _draw_title(draw: Any, recording: Recording, shot: Frame) -> None:
    font = _font(11)
    x = 6
    for w, name in enumerate(recording.names):
        draw.rectangle([x, 5, x + 8, 13], fill=3 + w)
        label = f"{name} ({len(shot.processes[w])})" if shot.alive[w] else f"{name} (dead)"
        draw.text((x + 12, 3), label, fill=3 + w, font=font)
        x += 12 + int(draw.textlength(label, font=font)) + 14
    total = recording.settings.cycles
    status = f"cycle {shot.cycle}/{total}"
    if shot is recording.frames[-1] or shot.steps >= recording.steps:
        status += f"  -  {recording.outcome}"
    draw.text((6, 17), status, fill=2, font=font)


def save_gif(
    recording: Recording,
    path: str | Path,
    *,
    cell: int = DEFAULT_CELL,
    columns: int = DEFAULT_COLUMNS,
    duration: int = 80,
    hold: int = 1500,
) -> Path:
    """Write all snapshots as an animated GIF (``duration`` ms a frame, the last held ``hold`` ms,
    looping). Returns the path."""
    if not recording.frames:
        raise ValueError("the recording has no frames")
    images = [render_frame(recording, shot, cell=cell, columns=columns) for shot in recording.frames]
    durations = [duration] * len(images)
    durations[-1] = max(duration, hold)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=0,
        optimize=False,
        disposal=1,
    )
    return path


def save_png(
    recording: Recording,
    path: str | Path,
    frame: int | Frame = -1,
    *,
    cell: int = DEFAULT_CELL,
    columns: int = DEFAULT_COLUMNS,
) -> Path:
    """Write one snapshot (the last by default: the end of the round) as a PNG. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    render_frame(recording, frame, cell=cell, columns=columns).save(path, format="PNG")
    return path


def cell_owners(
    image: Any,
    nwar: int,
    *,
    coresize: int = 8000,
    cell: int = DEFAULT_CELL,
    columns: int = DEFAULT_COLUMNS,
    title: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a picture made by :func:`render_frame` back: per core cell, the warrior whose colour it
    has (-1: background) and whether it is drawn as holding a process. Works on a palette image or
    an RGB one (e.g. a GIF frame read back with Pillow)."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.int64)
    top = TITLE_HEIGHT if title else 0
    rows = -(-coresize // columns)
    centre = cell // 2
    ys = top + np.arange(rows) * cell + centre
    xs = np.arange(columns) * cell + centre
    samples = rgb[ys][:, xs].reshape(-1, 3)[:coresize]
    palette = np.array(_palette(nwar), dtype=np.int64)
    nearest = np.argmin(((samples[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2), axis=1)
    owner = np.full(coresize, -1, dtype=np.int64)
    colour = (nearest >= 3) & (nearest < 3 + nwar)
    tint = nearest >= 3 + nwar
    owner[colour] = nearest[colour] - 3
    owner[tint] = nearest[tint] - 3 - nwar
    return owner, tint
