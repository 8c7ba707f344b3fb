"""Payloads of Who-Is-the-Spy: what the civilians and the spy each get.

A *payload source* draws one :class:`Deal` per game from the game's generator. Three sources:

* :class:`WordPairs`: word pairs (civilians get one word, the spy the other; which one is drawn). The
  project's own list (:meth:`WordPairs.builtin`, 186 pairs in 14 categories, written for redqueen) gives
  every word a set of *features* ("is sweet", "grows on trees") from one shared vocabulary: the
  discrete clues of the RL view and what the scripted agents say. :meth:`WordPairs.load` reads a
  user file: text with one pair per line (``word | word``, ``category | word | word``, or the
  built-in list's ``category | word | word | shared features | features of the first | features of
  the second``, features separated by ``;``; tabs or commas also separate the fields of a bare pair)
  or JSON (a list of ``[word, word]`` or of objects with ``a``, ``b`` and optionally ``category``,
  ``shared``, ``a_features``, ``b_features``). Pairs without features play in the text view only.
* :class:`~redqueen.envs.spy.scenes.SceneGenerator`: procedural CLEVR-like scenes whose spy copy
  changes exactly ``changes`` objects.
* :class:`ImagePairs`: picture pairs from a folder in Vision-Zero's layout
  (``<name>_original.png`` for the civilians, ``<name>_modified.png`` for the spy) or from two folders
  (civilians' and spy's pictures under the same file names). A picture without its partner is an
  error naming it.

:meth:`Deal.blanked` is Vision-Zero v2's variant: the spy's picture is blank.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = ["Deal", "ImagePairs", "WordPair", "WordPairs", "secret_word_pattern"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
BLANK_VALUE = 255
_BUILTIN = "word_pairs.txt"
_WORD_CHARS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 '\-.]*$")


def secret_word_pattern(word: str) -> re.Pattern[str]:
    """A case-insensitive pattern that finds ``word`` in a text: as a whole word, with its parts joined
    by spaces, hyphens or nothing, and with a plural or possessive ending (``apples``, ``apple's``)."""
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", word.strip().lower()) if p]
    joined = r"[\s\-]*".join(parts)
    return re.compile(rf"(?<![a-z0-9]){joined}(?:s|es|'s)?(?![a-z0-9])", re.IGNORECASE)


def _png_data_uri(image: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class Deal:
    """One game's payloads (immutable once made; pictures are made or read on first use).

    ``kind`` is ``"words"`` or ``"images"``. ``civilian_attributes`` and ``spy_attributes`` are ids in
    the source's vocabulary (what is true of each payload); ``record`` is JSON-able data for
    evaluation (the pair, the scenes and the changes, ...).
    """

    def __init__(
        self,
        kind: Literal["words", "images"],
        *,
        civilian_attributes: Iterable[int] = (),
        spy_attributes: Iterable[int] = (),
        record: Mapping[str, Any] | None = None,
        words: tuple[str, str] | None = None,
        images: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None,
        descriptions: tuple[str, str] | None = None,
        spy_hint: str = "",
    ):
        if kind == "words" and words is None:
            raise ValueError("a word deal needs its two words")
        if kind == "images" and images is None:
            raise ValueError("an image deal needs its pictures")
        self.kind = kind
        self.civilian_attributes = frozenset(int(a) for a in civilian_attributes)
        self.spy_attributes = frozenset(int(a) for a in spy_attributes)
        self.record: dict[str, Any] = dict(record or {})
        self.words = words
        self.descriptions = descriptions
        self.spy_hint = spy_hint
        self._make_images = images
        self._images: tuple[np.ndarray, np.ndarray] | None = None
        self._uris: dict[bool, str] = {}

    def attributes(self, spy: bool) -> frozenset[int]:
        return self.spy_attributes if spy else self.civilian_attributes

    def word(self, spy: bool) -> str:
        if self.words is None:
            raise ValueError("an image game has no secret words")
        return self.words[1 if spy else 0]

    def images(self) -> tuple[np.ndarray, np.ndarray]:
        """(civilians' picture, spy's picture), read-only (H, W, 3) uint8 arrays."""
        if self._make_images is None:
            raise ValueError("a word game has no pictures")
        if self._images is None:
            pair = []
            for image in self._make_images():
                array = np.ascontiguousarray(image, dtype=np.uint8)
                array.flags.writeable = False
                pair.append(array)
            self._images = (pair[0], pair[1])
        return self._images

    def image(self, spy: bool) -> np.ndarray:
        return self.images()[1 if spy else 0]

    def data_uri(self, spy: bool) -> str:
        """The picture as a PNG ``data:`` URI (made once)."""
        uri = self._uris.get(spy)
        if uri is None:
            uri = self._uris[spy] = _png_data_uri(self.image(spy))
        return uri

    def description(self, spy: bool) -> str:
        if self.descriptions is None:
            raise ValueError("only procedural scenes can be described in words")
        return self.descriptions[1 if spy else 0]

    def blanked(self) -> Deal:
        """Vision-Zero v2's variant of this deal: the spy's picture is blank (white), its attributes none."""
        if self.kind != "images":
            raise ValueError("blank_spy is a variant of the image games; a word game has no pictures")
        outer = self

        def images() -> tuple[np.ndarray, np.ndarray]:
            civilian = outer.image(False)
            return civilian, np.full_like(civilian, BLANK_VALUE)

        descriptions = None if self.descriptions is None else (self.descriptions[0], "(nothing: blank)")
        return Deal(
            "images",
            civilian_attributes=self.civilian_attributes,
            spy_attributes=(),
            record={**self.record, "blank_spy": True},
            images=images,
            descriptions=descriptions,
            spy_hint="Your picture is blank: the civilians see a picture that you do not.",
        )

    def __repr__(self) -> str:
        what = f"words={self.words}" if self.kind == "words" else f"record={list(self.record)}"
        return f"Deal({self.kind}, {what})"


# ---- words -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WordPair:
    """Two related words and their features (phrases that complete "It ...")."""

    a: str
    b: str
    category: str = ""
    shared: tuple[str, ...] = ()
    a_only: tuple[str, ...] = ()
    b_only: tuple[str, ...] = ()

    @property
    def a_features(self) -> tuple[str, ...]:
        return self.shared + self.a_only

    @property
    def b_features(self) -> tuple[str, ...]:
        return self.shared + self.b_only

    @property
    def has_features(self) -> bool:
        return bool(self.a_features) and bool(self.b_features)


def _features(text: str) -> tuple[str, ...]:
    return tuple(" ".join(f.split()) for f in text.split(";") if f.strip())


class WordPairs:
    """A list of word pairs (see the module docstring). ``name`` labels the source in records."""

    kind = "words"

    def __init__(self, pairs: Sequence[WordPair], name: str = "words"):
        pairs = list(pairs)
        if not pairs:
            raise ValueError(f"{name}: no word pairs")
        self.pairs = pairs
        self.name = name
        with_features = [p.has_features for p in pairs]
        if any(with_features) and not all(with_features):
            missing = [f"{p.a} / {p.b}" for p in pairs if not p.has_features][:3]
            raise ValueError(
                f"{name}: some pairs have features and some do not (e.g. {', '.join(missing)}); "
                "give features for every word, or for none"
            )
        self.has_features = all(with_features)
        vocabulary = sorted({f for p in pairs for f in p.a_features + p.b_features})
        self.vocabulary: tuple[str, ...] = tuple(vocabulary)
        index = {f: i for i, f in enumerate(vocabulary)}
        self._ids = [
            (frozenset(index[f] for f in p.a_features), frozenset(index[f] for f in p.b_features))
            for p in pairs
        ]

    def __len__(self) -> int:
        return len(self.pairs)

    def __repr__(self) -> str:
        return f"WordPairs({self.name!r}, {len(self)} pairs, {len(self.vocabulary)} features)"

    @property
    def categories(self) -> list[str]:
        return sorted({p.category for p in self.pairs if p.category})

    def clue_text(self, attribute: int) -> str:
        """The sentence of a discrete clue: ``"It grows on trees."``"""
        return f"It {self.vocabulary[attribute]}."

    def draw(self, rng: np.random.Generator) -> Deal:
        """One pair, and which of its words the civilians get (the spy gets the other)."""
        i = int(rng.integers(len(self.pairs)))
        swap = bool(rng.integers(2))
        pair = self.pairs[i]
        ids = self._ids[i]
        civilian, spy = (pair.b, pair.a) if swap else (pair.a, pair.b)
        civ_ids, spy_ids = (ids[1], ids[0]) if swap else ids
        return Deal(
            "words",
            civilian_attributes=civ_ids,
            spy_attributes=spy_ids,
            words=(civilian, spy),
            record={
                "source": self.name,
                "index": i,
                "category": pair.category,
                "civilian_word": civilian,
                "spy_word": spy,
            },
            spy_hint="Your word differs from the civilians' word, which is related to it.",
        )

    # ---- loading ---------------------------------------------------------------------------------
    @classmethod
    def builtin(cls) -> WordPairs:
        """The project's own list (written for redqueen, Apache-2.0 like the code); read once."""
        return _builtin()

    @classmethod
    def load(cls, path: str | Path) -> WordPairs:
        """Pairs from a user file: text (one pair per line) or ``.json`` (see the module docstring)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ValueError(f"cannot read the word-pair file {path}: {err}") from None
        except UnicodeDecodeError:
            raise ValueError(f"the word-pair file {path} is not UTF-8 text") from None
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}: not valid JSON: {err}") from None
            pairs = _parse_json(data, str(path))
        else:
            pairs = _parse_text(text, str(path))
        return cls(pairs, name=path.name)


@functools.cache
def _builtin() -> WordPairs:
    text = resources.files("redqueen.envs.spy").joinpath(_BUILTIN).read_text(encoding="utf-8")
    return WordPairs(_parse_text(text, "the built-in word list"), name="builtin")


def _check_pair(pair: WordPair, where: str) -> WordPair:
    for word in (pair.a, pair.b):
        if not word:
            raise ValueError(f"{where}: an empty word")
        if not _WORD_CHARS.match(word):
            raise ValueError(f"{where}: {word!r} is not a plain word (letters, digits, spaces, ' - . only)")
    if pair.a.lower() == pair.b.lower():
        raise ValueError(f"{where}: both words are {pair.a!r}; a pair needs two different words")
    for feature in pair.shared + pair.a_only + pair.b_only:
        for word in (pair.a, pair.b):
            if secret_word_pattern(word).search(feature):
                raise ValueError(f"{where}: the feature {feature!r} names the word {word!r}")
    return pair


def _split_line(line: str) -> list[str]:
    for sep in ("|", "\t", ","):
        if sep in line:
            return [f.strip() for f in line.split(sep)]
    return [line.strip()]


def _parse_text(text: str, where: str) -> list[WordPair]:
    pairs: list[WordPair] = []
    seen: dict[frozenset[str], int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = _split_line(line)
        at = f"{where}, line {number}"
        if len(fields) == 2:
            pair = WordPair(" ".join(fields[0].split()), " ".join(fields[1].split()))
        elif len(fields) == 3:
            pair = WordPair(" ".join(fields[1].split()), " ".join(fields[2].split()), fields[0])
        elif len(fields) == 6:
            category, a, b, shared, a_only, b_only = fields
            pair = WordPair(
                " ".join(a.split()), " ".join(b.split()), category,
                _features(shared), _features(a_only), _features(b_only),
            )  # fmt: skip
        else:
            raise ValueError(
                f"{at}: expected 'word | word', 'category | word | word' or 'category | word | word | "
                f"shared features | features of the first | features of the second', got {len(fields)} "
                f"field(s): {line[:80]!r}"
            )
        _check_pair(pair, at)
        key = frozenset((pair.a.lower(), pair.b.lower()))
        if key in seen:
            raise ValueError(f"{at}: the pair {pair.a} / {pair.b} is already on line {seen[key]}")
        seen[key] = number
        pairs.append(pair)
    if not pairs:
        raise ValueError(f"{where}: no word pairs found")
    return pairs


def _parse_json(data: Any, where: str) -> list[WordPair]:
    if not isinstance(data, list) or not data:
        raise ValueError(f"{where}: expected a non-empty JSON list of pairs")
    pairs = []
    for i, item in enumerate(data):
        at = f"{where}, item {i}"
        if isinstance(item, list | tuple) and len(item) == 2 and all(isinstance(w, str) for w in item):
            pair = WordPair(item[0].strip(), item[1].strip())
        elif isinstance(item, dict) and isinstance(item.get("a"), str) and isinstance(item.get("b"), str):

            def feats(key: str, at: str = at, item: dict = item) -> tuple[str, ...]:
                value = item.get(key, [])
                if not isinstance(value, list) or not all(isinstance(f, str) for f in value):
                    raise ValueError(f"{at}: {key!r} must be a list of strings")
                return tuple(" ".join(f.split()) for f in value if f.strip())

            pair = WordPair(
                item["a"].strip(), item["b"].strip(), str(item.get("category", "")),
                feats("shared"), feats("a_features"), feats("b_features"),
            )  # fmt: skip
        else:
            raise ValueError(f"{at}: expected [word, word] or an object with 'a' and 'b', got {item!r:.80}")
        pairs.append(_check_pair(pair, at))
    return pairs


# ---- pictures --------------------------------------------------------------------------------------
def _load_image(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, UnidentifiedImageError) as err:
        raise ValueError(f"cannot read the picture {path}: {err}") from None


def _pictures(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of pictures")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _unmatched_error(where: str, problems: list[str]) -> ValueError:
    shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
    return ValueError(f"{where}: {len(problems)} picture(s) without a partner: {shown}")


class ImagePairs:
    """Picture pairs from user folders (see the module docstring); pictures are read when a game
    needs them."""

    kind = "images"
    vocabulary: tuple[str, ...] = ()
    has_features = False

    def __init__(self, pairs: Sequence[tuple[str, Path, Path]], name: str = "images"):
        pairs = [(str(n), Path(a), Path(b)) for n, a, b in pairs]
        if not pairs:
            raise ValueError(f"{name}: no picture pairs")
        self.pairs = pairs
        self.name = name

    def __len__(self) -> int:
        return len(self.pairs)

    def __repr__(self) -> str:
        return f"ImagePairs({self.name!r}, {len(self)} pairs)"

    def clue_text(self, attribute: int) -> str:
        raise ValueError("picture pairs from a folder have no attribute vocabulary")

    @classmethod
    def from_folder(cls, folder: str | Path) -> ImagePairs:
        """Vision-Zero's layout: ``<name>_original.<ext>`` (civilians) and ``<name>_modified.<ext>``
        (spy) in one folder. Other pictures, and an original without its modified partner or the
        reverse, are errors naming the files."""
        folder = Path(folder)
        originals: dict[str, Path] = {}
        modified: dict[str, Path] = {}
        problems: list[str] = []
        for path in _pictures(folder):
            stem = path.stem
            if stem.endswith("_original"):
                table, name = originals, stem[: -len("_original")]
            elif stem.endswith("_modified"):
                table, name = modified, stem[: -len("_modified")]
            else:
                problems.append(f"{path.name} is named neither <name>_original nor <name>_modified")
                continue
            if name in table:
                problems.append(f"{path.name} and {table[name].name} are both the {name!r} picture")
            table[name] = path
        for name in sorted(set(originals) - set(modified)):
            problems.append(f"{originals[name].name} has no {name}_modified picture")
        for name in sorted(set(modified) - set(originals)):
            problems.append(f"{modified[name].name} has no {name}_original picture")
        if problems:
            raise _unmatched_error(f"image folder {folder}", problems)
        if not originals:
            raise ValueError(f"image folder {folder}: no <name>_original / <name>_modified pictures found")
        pairs = [(name, originals[name], modified[name]) for name in sorted(originals)]
        return cls(pairs, name=folder.name)

    @classmethod
    def from_folders(cls, civilian_folder: str | Path, spy_folder: str | Path) -> ImagePairs:
        """The civilians' pictures in one folder and the spy's in another, paired by file name (the
        extension may differ). A name found in one folder only is an error naming it."""
        civ_dir, spy_dir = Path(civilian_folder), Path(spy_folder)
        civ = {p.stem: p for p in _pictures(civ_dir)}
        spy = {p.stem: p for p in _pictures(spy_dir)}
        problems = [
            f"{civ[n].name} is in {civ_dir} but not in {spy_dir}" for n in sorted(set(civ) - set(spy))
        ]
        problems += [
            f"{spy[n].name} is in {spy_dir} but not in {civ_dir}" for n in sorted(set(spy) - set(civ))
        ]
        if problems:
            raise _unmatched_error(f"image folders {civ_dir} and {spy_dir}", problems)
        if not civ:
            raise ValueError(f"image folders {civ_dir} and {spy_dir}: no pictures found")
        return cls([(n, civ[n], spy[n]) for n in sorted(civ)], name=civ_dir.name)

    def draw(self, rng: np.random.Generator) -> Deal:
        i = int(rng.integers(len(self.pairs)))
        name, civ_path, spy_path = self.pairs[i]

        def images() -> tuple[np.ndarray, np.ndarray]:
            return _load_image(civ_path), _load_image(spy_path)

        return Deal(
            "images",
            images=images,
            record={
                "source": self.name,
                "index": i,
                "name": name,
                "civilian_image": str(civ_path),
                "spy_image": str(spy_path),
            },
            spy_hint="Your picture differs from the civilians' picture in some details.",
        )
