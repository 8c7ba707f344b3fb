"""Image data sets for the pixel debate: scikit-learn's 8x8 digits (no download) and MNIST from IDX files.

An :class:`ImageDataset` holds images as float32 in [0, 1] with shape ``(N, H, W)`` and integer labels.

* ``load_dataset("digits", split)``: the 1,797 8x8 digits bundled with scikit-learn
  (``sklearn.datasets.load_digits``, values 0-16 scaled to [0, 1]), split 70/30 per class with a fixed
  seed into ``"train"`` (1,257 images) and ``"test"`` (540); ``"all"`` is every image.
* ``load_dataset(folder, split)``: MNIST (or any data set in the same format) from a folder holding the
  standard IDX files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
  and ``t10k-labels-idx1-ubyte`` (each may also be gzipped, ``.gz``, or spelled ``train-images.idx3-ubyte``);
  nothing is ever downloaded.

:func:`read_idx` and :func:`write_idx` read and write single IDX files (the tests write small ones).
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DIGITS",
    "SPLITS",
    "ImageDataset",
    "load_dataset",
    "load_digits_dataset",
    "load_idx_folder",
    "read_idx",
    "write_idx",
]

DIGITS = "digits"
SPLITS = ("train", "test", "all")
TEST_FRACTION = 0.3
SPLIT_SEED = 0

# IDX type codes -> numpy dtypes (big-endian where it matters)
_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int32): 0x0C}
_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Labelled grey-scale images: ``images`` float32 ``(N, H, W)`` in [0, 1], ``labels`` int64 ``(N,)``."""

    images: np.ndarray
    labels: np.ndarray
    num_classes: int
    name: str
    split: str = "all"

    def __post_init__(self) -> None:
        images = np.asarray(self.images)
        labels = np.asarray(self.labels)
        if images.ndim != 3 or images.shape[0] == 0:
            raise ValueError(f"images must have shape (N, H, W) with N >= 1, got {images.shape}")
        if labels.shape != (images.shape[0],):
            raise ValueError(f"labels must have shape ({images.shape[0]},), got {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
        if not isinstance(self.num_classes, int) or self.num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {self.num_classes!r}")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(
                f"labels must be in 0..{self.num_classes - 1}, got {labels.min()}..{labels.max()}"
            )
        if not np.isfinite(images).all() or images.min() < 0 or images.max() > 1:
            raise ValueError("images must hold finite values in [0, 1]")
        object.__setattr__(self, "images", np.ascontiguousarray(images, dtype=np.float32))
        object.__setattr__(self, "labels", labels.astype(np.int64))

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of one image."""
        return int(self.images.shape[1]), int(self.images.shape[2])

    @property
    def num_pixels(self) -> int:
        return int(self.images.shape[1] * self.images.shape[2])

    @property
    def flat(self) -> np.ndarray:
        """The images as ``(N, H * W)`` (a view)."""
        return self.images.reshape(len(self), -1)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, indices: np.ndarray | list[int], split: str | None = None) -> ImageDataset:
        index = np.asarray(indices, dtype=np.int64)
        return ImageDataset(
            self.images[index], self.labels[index], self.num_classes, self.name, split or self.split
        )

    def __repr__(self) -> str:
        h, w = self.shape
        return f"ImageDataset({self.name!r}, split={self.split!r}, {len(self)} images of {h}x{w})"


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    return split


def stratified_split(labels: np.ndarray, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED):
    """(train indices, test indices): ``test_fraction`` of every class, drawn with ``seed``, ascending."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        n_test = round(test_fraction * len(idx))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


_DIGITS: dict[str, ImageDataset] = {}  # the full data set, read once per process (read-only arrays)


def load_digits_dataset(split: str = "test") -> ImageDataset:
    """scikit-learn's 8x8 digits (values 0-16 scaled to [0, 1]), split 70/30 per class (seed 0)."""
    _check_split(split)
    data = _DIGITS.get("all")
    if data is None:
        try:
            from sklearn.datasets import load_digits
        except ImportError:  # pragma: no cover - a dependency of redqueen
            raise ImportError("the digits data ship with scikit-learn: pip install scikit-learn") from None
        digits = load_digits()
        images = (digits.images / 16.0).astype(np.float32)
        data = _DIGITS["all"] = ImageDataset(images, digits.target.astype(np.int64), 10, DIGITS, "all")
        data.images.flags.writeable = False
    if split == "all":
        return data
    train, test = stratified_split(data.labels)
    return data.subset(train if split == "train" else test, split)


# ---- IDX files -----------------------------------------------------------------------------------
def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """The array in an IDX file (gzipped or not), e.g. ``t10k-images-idx3-ubyte``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise OSError(f"cannot read IDX file {path}: {err.strerror or err}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise ValueError(f"{path} looks gzipped but does not decompress: {err}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (its first two bytes must be zero)")
    code, ndim = raw[2], raw[3]
    dtype = _IDX_TYPES.get(code)
    if dtype is None:
        raise ValueError(f"{path}: unknown IDX data type 0x{code:02x}")
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header ({ndim} dimensions)")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    body = raw[4 + 4 * ndim :]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(body) != expected:
        raise ValueError(
            f"{path}: the header announces {'x'.join(map(str, dims))} values ({expected} bytes) but the file "
            f"holds {len(body)} bytes of data"
        )
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` (uint8, int8 or int32) as an IDX file; gzipped if the name ends in ``.gz``."""
    array = np.asarray(array)
    code = _IDX_CODES.get(array.dtype)
    if code is None:
        raise ValueError(f"write_idx writes uint8, int8 or int32 arrays, got dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"an IDX array has 1 to 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = array.astype(array.dtype.newbyteorder(">")).tobytes()
    path = Path(path)
    data = header + body
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def _find_idx(folder: Path, name: str) -> Path:
    dotted = name.replace("-idx", ".idx")
    for candidate in (name, name + ".gz", dotted, dotted + ".gz"):
        if (folder / candidate).is_file():
            return folder / candidate
    raise FileNotFoundError(
        f"{folder} has no {name} (nor {name}.gz or {dotted}); an MNIST folder holds the four standard "
        "IDX files: " + ", ".join(n for pair in _MNIST_FILES.values() for n in pair)
    )


def _load_idx_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    image_path, label_path = (_find_idx(folder, n) for n in _MNIST_FILES[split])
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3:
        raise ValueError(f"{image_path}: expected images of shape (N, H, W), got {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(
            f"{label_path} holds {labels.shape} labels for the {images.shape[0]} images of {image_path}"
        )
    if not np.issubdtype(images.dtype, np.integer) or images.min() < 0 or images.max() > 255:
        raise ValueError(f"{image_path}: expected 8-bit pixel values 0-255")
    return images, labels


def load_idx_folder(folder: str | os.PathLike[str], split: str = "test") -> ImageDataset:
    """MNIST (or a data set in its format) from a folder of IDX files; pixel values 0-255 -> [0, 1]."""
    _check_split(split)
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(
            f"{root} is not a folder; a data set is 'digits' or a folder of MNIST IDX files"
        )
    parts = [_load_idx_split(root, s) for s in (("train", "test") if split == "all" else (split,))]
    images = np.concatenate([p[0] for p in parts]).astype(np.float32) / 255.0
    labels = np.concatenate([p[1] for p in parts]).astype(np.int64)
    num_classes = max(10, int(labels.max()) + 1)
    return ImageDataset(images, labels, num_classes, f"idx:{root.resolve()}", split)


def load_dataset(
    dataset: str | os.PathLike[str] | ImageDataset = DIGITS, split: str = "test"
) -> ImageDataset:
    """``"digits"`` (scikit-learn's 8x8 digits), a folder of MNIST IDX files, or an ImageDataset as it is."""
    if isinstance(dataset, ImageDataset):
        return dataset
    if isinstance(dataset, str) and dataset == DIGITS:
        return load_digits_dataset(split)
    if isinstance(dataset, str | os.PathLike):
        return load_idx_folder(dataset, split)
    raise TypeError(
        f"dataset must be 'digits', a folder of MNIST IDX files or an ImageDataset, got {dataset!r:.80}"
    )
