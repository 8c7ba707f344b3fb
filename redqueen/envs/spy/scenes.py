"""Procedural CLEVR-like scenes: flat shapes in CLEVR's colours and sizes, drawn with numpy and Pillow.

A :class:`Scene` is a record of objects (shape, colour, size, centre) on a square canvas; rendering it
is a pure function of the record, so the record is what a game stores and evaluates. The canvas is cut
into a 4 x 4 grid and every object sits in a cell of its own, jittered inside it, so objects never
overlap and every object lies in one quadrant of the picture without doubt.

:class:`SceneGenerator` is the payload source of Who-Is-the-Spy's ``payload="scenes"``: each game
draws a scene for the civilians and gives the spy a copy in which exactly ``changes`` objects have a new
shape and a new colour (Vision-Zero's CLEVR edit: same size and place), with the difference recorded
(``deal.record["changes"]``).

The attribute vocabulary (the discrete clues of the RL view) is :data:`FACTS`: ``"a large red
circle"`` (size, colour, shape) and ``"a red circle in the top left"`` (colour, shape, quadrant); a
fact is true of a scene when one of its objects matches it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SHAPES = ("circle", "square", "triangle")
# CLEVR's eight colours (its published RGB values)
COLOURS: Mapping[str, tuple[int, int, int]] = {
    "gray": (87, 87, 87),
    "red": (173, 35, 35),
    "blue": (42, 75, 215),
    "green": (29, 105, 20),
    "brown": (129, 74, 25),
    "purple": (129, 38, 192),
    "cyan": (41, 208, 208),
    "yellow": (255, 238, 51),
}
SIZES = ("small", "large")
QUADRANTS = ("top left", "top right", "bottom left", "bottom right")
BACKGROUND = (222, 222, 218)
GRID = 4  # cells per side; one object per cell
# radius of an object as a fraction of a grid cell, by size
_RADIUS = {"small": 0.25, "large": 0.4}
MIN_IMAGE_SIZE = 64

FACTS: tuple[str, ...] = tuple(
    [f"a {s} {c} {sh}" for s in SIZES for c in COLOURS for sh in SHAPES]
    + [f"a {c} {sh} in the {q}" for c in COLOURS for sh in SHAPES for q in QUADRANTS]
)
"""The scene attribute vocabulary: every (size, colour, shape) and every (colour, shape, quadrant)."""
_FACT_INDEX = {fact: i for i, fact in enumerate(FACTS)}


@dataclass(frozen=True)
class SceneObject:
    """One object: its shape, colour and size, and its centre in pixels (x right, y down)."""

    shape: str
    colour: str
    size: str
    x: int
    y: int

    def quadrant(self, image_size: int) -> str:
        half = image_size / 2
        return QUADRANTS[(2 if self.y >= half else 0) + (1 if self.x >= half else 0)]

    def facts(self, image_size: int) -> tuple[int, int]:
        """Ids in :data:`FACTS` of what this object makes true."""
        return (
            _FACT_INDEX[f"a {self.size} {self.colour} {self.shape}"],
            _FACT_INDEX[f"a {self.colour} {self.shape} in the {self.quadrant(image_size)}"],
        )

    def radius(self, image_size: int) -> float:
        return _RADIUS[self.size] * image_size / GRID

    def describe(self, image_size: int) -> str:
        return f"a {self.size} {self.colour} {self.shape} in the {self.quadrant(image_size)}"

    def to_dict(self) -> dict[str, Any]:
        return {"shape": self.shape, "colour": self.colour, "size": self.size, "x": self.x, "y": self.y}


@dataclass(frozen=True)
class Scene:
    """A picture as a record of objects; :meth:`render` draws it."""

    image_size: int
    objects: tuple[SceneObject, ...]

    def facts(self) -> frozenset[int]:
        """The ids of every :data:`FACTS` entry that is true of this scene."""
        return frozenset(f for obj in self.objects for f in obj.facts(self.image_size))

    def describe(self) -> str:
        """The objects in words, one per line in reading order (for text-only models)."""
        ordered = sorted(self.objects, key=lambda o: (o.y, o.x))
        return "\n".join(f"- {o.describe(self.image_size)}" for o in ordered)

    def bounding_box(self, index: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the pixels object ``index`` covers (right and bottom exclusive);
        the boxes of different objects never overlap."""
        from PIL import Image, ImageDraw

        alone = Image.new("L", (self.image_size, self.image_size), 0)
        _draw(ImageDraw.Draw(alone), self.objects[index], self.image_size, 255)
        ys, xs = np.nonzero(np.asarray(alone))
        return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1

    def render(self) -> np.ndarray:
        """The picture as a (size, size, 3) uint8 array."""
        from PIL import Image, ImageDraw

        size = self.image_size
        image = Image.new("RGB", (size, size), BACKGROUND)
        draw = ImageDraw.Draw(image)
        for obj in self.objects:
            _draw(draw, obj, size, COLOURS[obj.colour])
        return np.asarray(image, dtype=np.uint8).copy()

    def to_dict(self) -> dict[str, Any]:
        return {"image_size": self.image_size, "objects": [o.to_dict() for o in self.objects]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scene:
        try:
            size = int(data["image_size"])
            objects = tuple(SceneObject(**dict(o)) for o in data["objects"])
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"not a scene record: {err}") from None
        for o in objects:
            if o.shape not in SHAPES or o.colour not in COLOURS or o.size not in SIZES:
                raise ValueError(f"unknown shape, colour or size in the scene record: {o}")
        return cls(size, objects)


def _draw(draw: Any, obj: SceneObject, image_size: int, fill: Any) -> None:
    """Draw ``obj`` with Pillow's ``ImageDraw`` (no anti-aliasing: a pure function of the record)."""
    r = obj.radius(image_size)
    x, y = obj.x, obj.y
    if obj.shape == "circle":
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    elif obj.shape == "square":
        side = r * 0.86  # a square and a circle of one size look about as big
        draw.rectangle((x - side, y - side, x + side, y + side), fill=fill)
    else:
        h, w = r * 0.5, r * 0.866
        draw.polygon([(x, y - r), (x + w, y + h), (x - w, y + h)], fill=fill)


def _check_range(objects: Any) -> tuple[int, int]:
    if isinstance(objects, int) and not isinstance(objects, bool):
        objects = (objects, objects)
    try:
        low, high = (int(v) for v in objects)
    except (TypeError, ValueError):
        raise ValueError(f"objects must be a count or a (min, max) pair, got {objects!r}") from None
    if not 1 <= low <= high <= GRID * GRID:
        raise ValueError(f"objects must be a range within 1..{GRID * GRID}, got {objects!r}")
    return low, high


class SceneGenerator:
    """Draws CLEVR-like scene pairs (see the module docstring).

    Args:
        image_size: side of the square pictures, in pixels (>= 64).
        objects: objects per scene: a count or a (min, max) range, drawn uniformly (default 4 to 6).
        changes: objects the spy's picture changes (new shape and new colour), at most the fewest
            objects a scene may have.
    """

    kind = "images"
    name = "scenes"
    vocabulary: tuple[str, ...] = FACTS

    def __init__(self, image_size: int = 256, objects: int | Sequence[int] = (4, 6), changes: int = 2):
        if isinstance(image_size, bool) or not isinstance(image_size, int | np.integer):
            raise ValueError(f"image_size must be an integer, got {image_size!r}")
        if image_size < MIN_IMAGE_SIZE:
            raise ValueError(f"image_size must be at least {MIN_IMAGE_SIZE} pixels, got {image_size}")
        low, high = _check_range(objects)
        if isinstance(changes, bool) or not isinstance(changes, int | np.integer) or changes < 1:
            raise ValueError(f"changes must be a positive integer, got {changes!r}")
        if changes > low:
            raise ValueError(
                f"changes={changes} objects cannot be changed in a scene of {low} objects; "
                f"give objects with a minimum of at least {changes}"
            )
        self.image_size = int(image_size)
        self.objects = (low, high)
        self.changes = int(changes)

    def __repr__(self) -> str:
        return f"SceneGenerator(image_size={self.image_size}, objects={self.objects}, changes={self.changes})"

    def __len__(self) -> int:
        return 0  # generated, not listed

    def clue_text(self, attribute: int) -> str:
        """The sentence of a discrete clue: ``"There is a large red circle."``"""
        return f"There is {FACTS[attribute]}."

    def generate(self, rng: np.random.Generator) -> Scene:
        """A random scene."""
        count = int(rng.integers(self.objects[0], self.objects[1] + 1))
        cells = rng.choice(GRID * GRID, size=count, replace=False)
        sizes = rng.integers(len(SIZES), size=count)
        colours = rng.integers(len(COLOURS), size=count)
        shapes = rng.integers(len(SHAPES), size=count)
        jitter = rng.uniform(-1.0, 1.0, size=(count, 2))
        cell = self.image_size / GRID
        names = list(COLOURS)
        objects = []
        for k in range(count):
            size = SIZES[sizes[k]]
            slack = max(0.0, cell / 2 - _RADIUS[size] * cell - 2)  # keep clear of the cell's edges
            cx = (cells[k] % GRID + 0.5) * cell + jitter[k, 0] * slack
            cy = (cells[k] // GRID + 0.5) * cell + jitter[k, 1] * slack
            objects.append(SceneObject(SHAPES[shapes[k]], names[colours[k]], size, round(cx), round(cy)))
        return Scene(self.image_size, tuple(objects))

    def modify(self, scene: Scene, rng: np.random.Generator) -> tuple[Scene, list[dict[str, Any]]]:
        """The spy's copy of ``scene``: ``changes`` distinct objects get a new shape and a new colour
        (size and centre kept). Returns the new scene and one record per change."""
        if self.changes > len(scene.objects):
            raise ValueError(f"cannot change {self.changes} objects of a scene with {len(scene.objects)}")
        picked = sorted(int(i) for i in rng.choice(len(scene.objects), size=self.changes, replace=False))
        objects = list(scene.objects)
        records = []
        for i in picked:
            old = objects[i]
            shapes = [s for s in SHAPES if s != old.shape]
            colours = [c for c in COLOURS if c != old.colour]
            shape = shapes[int(rng.integers(len(shapes)))]
            new = SceneObject(shape, colours[int(rng.integers(len(colours)))], old.size, old.x, old.y)
            objects[i] = new
            records.append({"object": i, "before": old.to_dict(), "after": new.to_dict()})
        return Scene(scene.image_size, tuple(objects)), records

    def draw(self, rng: np.random.Generator) -> Any:
        """One game's payloads: the civilians' scene and the spy's modified copy."""
        from redqueen.envs.spy.payloads import Deal

        scene = self.generate(rng)
        spy_scene, changes = self.modify(scene, rng)
        return Deal(
            kind="images",
            civilian_attributes=scene.facts(),
            spy_attributes=spy_scene.facts(),
            record={
                "source": "scenes",
                "civilian_scene": scene.to_dict(),
                "spy_scene": spy_scene.to_dict(),
                "changes": changes,
            },
            images=lambda: (scene.render(), spy_scene.render()),
            descriptions=(scene.describe(), spy_scene.describe()),
            spy_hint=f"{self.changes} object{'s' if self.changes != 1 else ''} in your picture "
            "differ from the civilians' picture (new shape and colour, same size and place).",
        )
