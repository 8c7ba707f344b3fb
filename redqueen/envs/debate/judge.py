"""The sparse-pixel judge of the pixel debate: a classifier that sees only ``k`` revealed pixels.

As in Irving, Christiano and Amodei (2018), the judge is trained in advance by supervised learning on
random masks of ``k`` pixels (by default drawn among the image's nonzero pixels) and then frozen. Its
input has two channels, the mask and the masked image; it outputs one logit per class.

* :class:`MLPJudge`: the trained judge, a torch MLP (``2 * H * W -> 128 -> 128 -> classes`` by
  default). :func:`train_judge` trains one (``redqueen debate train-judge`` on the command line),
  :meth:`MLPJudge.save` / :func:`load_judge` keep it in a file. Inference runs in float64 numpy on a copy
  of the weights, and a set of revealed pixels is scored by summing one first-layer row per pixel
  (the first layer is linear in the two channels), so the exact debate solver scores the ~41,000
  4-pixel sets of a digit in a few hundredths of a second; both paths give the same logits as the
  torch module.
* :class:`LinearJudge`: logits linear in the revealed pixels, for hand-made judges (tests, toy games).
* :func:`judge_accuracy`: accuracy of the judge alone on random ``k``-pixel masks (the paper's
  "random pixels" baseline).
* :func:`default_judge`: the judge a game uses when none is given. Judges for ``k = 4`` and ``k = 6``
  on the 8x8 digits ship inside the package (``data/judge_digits_k4.pt``, ``..._k6.pt``, 136 KB
  each); any other ``k`` (or ``pixels="all"``) is trained on first use (about half a minute on one
  core) and cached under the user cache folder (``$REDQUEEN_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/redqueen``, else ``~/.cache/redqueen``).
"""

from __future__ import annotations

import abc
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from redqueen.envs.debate.data import DIGITS, ImageDataset, load_dataset

__all__ = [
    "PIXEL_POOLS",
    "Judge",
    "LinearJudge",
    "MLPJudge",
    "cache_dir",
    "default_judge",
    "judge_accuracy",
    "load_judge",
    "random_masks",
    "train_judge",
]

logger = logging.getLogger(__name__)

PixelPool = Literal["nonzero", "all"]
PIXEL_POOLS = ("nonzero", "all")
FILE_FORMAT = "redqueen-debate-judge"
FILE_VERSION = 1
DEFAULT_HIDDEN = (128, 128)
DEFAULT_STEPS = 6000
DEFAULT_BATCH = 512
DEFAULT_LR = 2e-3
SHIPPED = {4: "judge_digits_k4.pt", 6: "judge_digits_k6.pt"}
_DATA_DIR = Path(__file__).parent / "data"
_CHUNK = 16384  # sets scored per matrix product


def _check_k(k: Any, num_pixels: int | None = None) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k (pixels the judge sees) must be a positive integer, got {k!r}")
    if num_pixels is not None and k > num_pixels:
        raise ValueError(f"k={k} is more pixels than an image has ({num_pixels})")
    return int(k)


def _check_pixels(pixels: Any) -> PixelPool:
    if pixels not in PIXEL_POOLS:
        raise ValueError(f"pixels must be 'nonzero' or 'all', got {pixels!r}")
    return pixels


class Judge(abc.ABC):
    """A frozen classifier of sparse masks: ``logits(images, masks)`` -> one logit per class.

    Attributes: ``shape`` (H, W) of the images it judges, ``num_classes``, ``k`` (the mask size it
    was trained for, or None) and ``pixels`` (the pool its training masks were drawn from).
    """

    shape: tuple[int, int]
    num_classes: int
    k: int | None = None
    pixels: str = "nonzero"
    name: str = "judge"

    @property
    def num_pixels(self) -> int:
        return self.shape[0] * self.shape[1]

    @abc.abstractmethod
    def logits(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """Logits ``(N, num_classes)`` (float64) for images ``(N, H*W)`` in [0, 1] and bool masks
        ``(N, H*W)`` of the revealed pixels."""

    def set_logits(self, image: np.ndarray, sets: np.ndarray) -> np.ndarray:
        """Logits ``(N, num_classes)`` of one image ``(H*W,)`` under each revealed set: row ``i`` of
        ``sets`` ``(N, m)`` holds the ``m`` revealed pixel indices (distinct)."""
        image = np.asarray(image, dtype=np.float64).reshape(-1)
        sets = np.asarray(sets, dtype=np.int64)
        if sets.ndim == 1:
            sets = sets[None, :]
        out = np.empty((sets.shape[0], self.num_classes))
        for start in range(0, sets.shape[0], _CHUNK):
            block = sets[start : start + _CHUNK]
            masks = np.zeros((block.shape[0], image.size), dtype=bool)
            np.put_along_axis(masks, block, True, axis=1)
            out[start : start + block.shape[0]] = self.logits(np.broadcast_to(image, masks.shape), masks)
        return out

    def scorer(self, image: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """A function ``sets -> logits`` for one image (as :meth:`set_logits`), with the per-image work
        done once: what search debaters call many times."""
        image = np.asarray(image, dtype=np.float64).reshape(-1)
        return lambda sets: self.set_logits(image, sets)

    def check_images(self, shape: tuple[int, int], num_classes: int, what: str = "the data set") -> None:
        """Raise a ValueError when this judge cannot judge images of ``shape`` with ``num_classes``."""
        if tuple(shape) != tuple(self.shape) or num_classes != self.num_classes:
            raise ValueError(
                f"the judge {self.name} judges {self.shape[0]}x{self.shape[1]} images of {self.num_classes} "
                f"classes, but {what} has {shape[0]}x{shape[1]} images of {num_classes} classes"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, k={self.k}, {self.shape[0]}x{self.shape[1]})"


class LinearJudge(Judge):
    """Logits linear in the revealed pixels: ``logit_c = bias_c + sum over revealed p of
    (value_weights[c, p] * x_p + mask_weights[c, p])``. For hand-made judges with known answers."""

    def __init__(
        self,
        value_weights: np.ndarray,
        shape: tuple[int, int],
        mask_weights: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        name: str = "linear",
    ):
        w = np.asarray(value_weights, dtype=np.float64)
        h, wd = int(shape[0]), int(shape[1])
        if w.ndim != 2 or w.shape[1] != h * wd or w.shape[0] < 2:
            raise ValueError(f"value_weights must have shape (classes >= 2, {h * wd}), got {w.shape}")
        self.value_weights = w
        self.mask_weights = np.zeros_like(w) if mask_weights is None else np.asarray(mask_weights, float)
        self.bias = np.zeros(w.shape[0]) if bias is None else np.asarray(bias, dtype=np.float64)
        if self.mask_weights.shape != w.shape or self.bias.shape != (w.shape[0],):
            raise ValueError("mask_weights must match value_weights and bias have one entry per class")
        self.shape = (h, wd)
        self.num_classes = int(w.shape[0])
        self.name = name

    def logits(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        m = np.asarray(masks, dtype=np.float64)
        x = np.asarray(images, dtype=np.float64) * m
        return x @ self.value_weights.T + m @ self.mask_weights.T + self.bias

    def set_logits(self, image: np.ndarray, sets: np.ndarray) -> np.ndarray:
        image = np.asarray(image, dtype=np.float64).reshape(-1)
        per_pixel = (self.value_weights * image + self.mask_weights).T  # (P, C)
        sets = np.asarray(sets, dtype=np.int64)
        if sets.ndim == 1:
            sets = sets[None, :]
        return self.bias + per_pixel[sets].sum(axis=1)


def _torch():
    import torch

    return torch


def build_net(num_pixels: int, num_classes: int, hidden: Sequence[int]) -> Any:
    """The judge's torch module: an MLP over the two channels (mask, masked image) flattened."""
    torch = _torch()
    layers: list[Any] = []
    width = 2 * num_pixels
    for h in hidden:
        layers += [torch.nn.Linear(width, int(h)), torch.nn.ReLU()]
        width = int(h)
    layers.append(torch.nn.Linear(width, num_classes))
    return torch.nn.Sequential(*layers)


class MLPJudge(Judge):
    """A trained judge: a torch MLP (``net``) over ``[mask, mask * image]``; see the module docstring.

    Inference (:meth:`logits`, :meth:`set_logits`) runs in float64 numpy on a copy of the weights made
    when the judge is built; call :meth:`sync` after changing ``net``.
    """

    def __init__(
        self,
        net: Any,
        shape: tuple[int, int],
        num_classes: int,
        *,
        k: int | None = None,
        pixels: str = "nonzero",
        hidden: Sequence[int] = DEFAULT_HIDDEN,
        meta: dict[str, Any] | None = None,
        name: str = "mlp",
    ):
        self.net = net
        self.shape = (int(shape[0]), int(shape[1]))
        self.num_classes = int(num_classes)
        self.k = None if k is None else int(k)
        self.pixels = pixels
        self.hidden = tuple(int(h) for h in hidden)
        self.meta: dict[str, Any] = dict(meta or {})
        self.name = name
        self.sync()

    def sync(self) -> None:
        """Copy the torch weights into the float64 arrays inference uses."""
        linears = [m for m in self.net if hasattr(m, "weight")]
        self._weights = [m.weight.detach().cpu().double().numpy().T.copy() for m in linears]
        self._biases = [m.bias.detach().cpu().double().numpy().copy() for m in linears]
        first = self._weights[0]
        p = self.num_pixels
        if first.shape[0] != 2 * p or self._weights[-1].shape[1] != self.num_classes:
            raise ValueError(
                f"the judge's network takes {first.shape[0]} inputs and gives {self._weights[-1].shape[1]} "
                f"logits; a {self.shape[0]}x{self.shape[1]} judge of {self.num_classes} classes needs "
                f"{2 * p} and {self.num_classes}"
            )
        self._mask_rows, self._value_rows = first[:p], first[p:]

    def _tail(self, h: np.ndarray) -> np.ndarray:
        """Layers after the first one's pre-activation ``h``."""
        for w, b in zip(self._weights[1:], self._biases[1:], strict=True):
            np.maximum(h, 0.0, out=h)
            h = h @ w + b
        return h

    def logits(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        m = np.asarray(masks, dtype=np.float64)
        x = np.asarray(images, dtype=np.float64) * m
        if m.ndim == 1:
            m, x = m[None, :], x[None, :]
        return self._tail(m @ self._mask_rows + x @ self._value_rows + self._biases[0])

    def set_logits(self, image: np.ndarray, sets: np.ndarray) -> np.ndarray:
        return self.scorer(image)(sets)

    def scorer(self, image: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        image = np.asarray(image, dtype=np.float64).reshape(-1)
        per_pixel = self._mask_rows + image[:, None] * self._value_rows  # (P, hidden): one row a pixel
        bias = self._biases[0]
        classes = self.num_classes

        def first_layer(block: np.ndarray) -> np.ndarray:
            h = np.broadcast_to(bias, (block.shape[0], bias.size)).copy()
            for column in block.T:  # one pixel of every set at a time, in column order
                h += per_pixel[column]
            return h

        def score(sets: np.ndarray) -> np.ndarray:
            sets = np.asarray(sets, dtype=np.int64)
            if sets.ndim == 1:
                sets = sets[None, :]
            if sets.shape[0] == 1:  # one set (search debaters): the same sums, without the batch set-up
                h = bias.copy()
                for p in sets[0].tolist():
                    h += per_pixel[p]
                return self._tail(h[None, :])
            if sets.shape[0] <= _CHUNK:
                return self._tail(first_layer(sets))
            out = np.empty((sets.shape[0], classes))
            for start in range(0, sets.shape[0], _CHUNK):
                block = sets[start : start + _CHUNK]
                out[start : start + block.shape[0]] = self._tail(first_layer(block))
            return out

        return score

    def torch_logits(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """The torch module's logits (float32), for checking the numpy path against it."""
        torch = _torch()
        m = torch.as_tensor(np.asarray(masks, dtype=np.float32))
        x = torch.as_tensor(np.asarray(images, dtype=np.float32)) * m
        with torch.no_grad():
            return self.net(torch.cat([m, x], dim=1)).numpy()

    # ---- files -----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the judge (weights, settings, training record) to ``path``, atomically."""
        torch = _torch()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "shape": list(self.shape),
            "num_classes": self.num_classes,
            "k": self.k,
            "pixels": self.pixels,
            "hidden": list(self.hidden),
            "meta": self.meta,
            "state_dict": {n: t.detach().cpu().float().clone() for n, t in self.net.state_dict().items()},
        }
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; a judge file is not
            torch.save(payload, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MLPJudge:
        """A judge saved by :meth:`save` (the file is read with ``torch.load(weights_only=True)``)."""
        torch = _torch()
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"no judge file at {path}; train one with `redqueen debate train-judge --out {path}`"
            )
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # torch raises several kinds for a file that is not a torch archive
            raise ValueError(f"{path} is not a judge file ({type(err).__name__}: {err})") from None
        if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT:
            raise ValueError(f"{path} is not a redqueen debate judge file")
        if payload.get("version") != FILE_VERSION:
            raise ValueError(
                f"{path}: judge file version {payload.get('version')!r}, expected {FILE_VERSION}"
            )
        shape = tuple(payload["shape"])
        hidden = tuple(payload["hidden"])
        net = build_net(shape[0] * shape[1], payload["num_classes"], hidden)
        try:
            net.load_state_dict(payload["state_dict"])
        except RuntimeError as err:
            raise ValueError(f"{path}: the weights do not fit the judge's network: {err}") from None
        net.eval()
        return cls(
            net,
            shape,
            payload["num_classes"],
            k=payload["k"],
            pixels=payload["pixels"],
            hidden=hidden,
            meta=payload.get("meta") or {},
            name=path.name,
        )


def load_judge(judge: str | os.PathLike[str] | Judge) -> Judge:
    """A judge from a file written by :meth:`MLPJudge.save`, or ``judge`` itself when it is a Judge."""
    if isinstance(judge, Judge):
        return judge
    if isinstance(judge, str | os.PathLike):
        return MLPJudge.load(judge)
    raise TypeError(f"judge must be a Judge or the path of a judge file, got {judge!r:.80}")


# ---- masks, training, accuracy --------------------------------------------------------------------
def random_masks(
    images: np.ndarray, k: int, rng: np.random.Generator, pixels: PixelPool = "nonzero"
) -> np.ndarray:
    """One random bool mask of ``k`` pixels per row of ``images`` ``(N, P)``: drawn uniformly among the
    row's nonzero pixels (``pixels="nonzero"``; all of them, topped up with blank ones, when there are
    fewer than ``k``) or among all pixels."""
    images = np.asarray(images)
    scores = rng.random(images.shape)
    if pixels == "nonzero":
        scores[images <= 0] -= 1.0  # blank pixels only after every nonzero one
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    masks = np.zeros(images.shape, dtype=bool)
    np.put_along_axis(masks, top, True, axis=1)
    return masks


def judge_accuracy(
    judge: Judge,
    dataset: ImageDataset | str = DIGITS,
    k: int | None = None,
    *,
    masks_per_image: int = 20,
    pixels: PixelPool | None = None,
    seed: int = 0,
    indices: Sequence[int] | np.ndarray | None = None,
) -> float:
    """Accuracy of the judge alone on ``masks_per_image`` random ``k``-pixel masks of every image
    (default ``k`` and ``pixels``: the judge's own; default data: the digits' test split)."""
    data = load_dataset(dataset, "test")
    judge.check_images(data.shape, data.num_classes)
    k = _check_k(k if k is not None else judge.k, data.num_pixels)
    pool = _check_pixels(pixels if pixels is not None else judge.pixels)
    images, labels = data.flat, data.labels
    if indices is not None:
        images, labels = images[np.asarray(indices)], labels[np.asarray(indices)]
    rng = np.random.default_rng(seed)
    tiled = np.repeat(images, masks_per_image, axis=0)
    correct = 0
    for start in range(0, tiled.shape[0], _CHUNK):
        block = tiled[start : start + _CHUNK]
        masks = random_masks(block, k, rng, pool)
        pred = judge.logits(block, masks).argmax(axis=1)
        correct += int((pred == np.repeat(labels, masks_per_image)[start : start + _CHUNK]).sum())
    return correct / tiled.shape[0]


def train_judge(
    dataset: ImageDataset | str = DIGITS,
    k: int = 6,
    *,
    pixels: PixelPool = "nonzero",
    hidden: Sequence[int] = DEFAULT_HIDDEN,
    steps: int = DEFAULT_STEPS,
    batch_size: int = DEFAULT_BATCH,
    lr: float = DEFAULT_LR,
    seed: int = 0,
    eval_masks: int = 20,
    progress: bool = False,
) -> MLPJudge:
    """Train a judge on random ``k``-pixel masks of the training images (a fresh mask for every
    sample), with Adam and a one-cycle learning rate; ``meta["accuracy"]`` is its accuracy alone on
    ``eval_masks`` random masks per test image (0 skips it).

    ``dataset``: ``"digits"`` (the train split is used), a folder of MNIST IDX files (its train files),
    or an ImageDataset (all of it, and no accuracy unless ``eval_masks`` and a test split exist).
    """
    torch = _torch()
    pool = _check_pixels(pixels)
    for name, value in (("steps", steps), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    hidden = tuple(int(h) for h in hidden)
    if not hidden or min(hidden) < 1:
        raise ValueError(f"hidden must be one or more positive layer widths, got {hidden!r}")
    train = load_dataset(dataset, "train")
    k = _check_k(k, train.num_pixels)
    test: ImageDataset | None = None
    if eval_masks and not isinstance(dataset, ImageDataset):
        test = load_dataset(dataset, "test")

    x = torch.as_tensor(train.flat)
    y = torch.as_tensor(train.labels)
    blank = x <= 0
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_net(train.num_pixels, train.num_classes, hidden)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    bar = None
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=False)
        bar.start()
        task = bar.add_task(f"training a k={k} judge", total=steps)
    try:
        net.train()
        for step in range(steps):
            i = torch.randint(len(y), (batch_size,), generator=gen)
            xb = x[i]
            scores = torch.rand(xb.shape, generator=gen)
            if pool == "nonzero":
                scores = scores - blank[i].float()
            mask = torch.zeros_like(xb).scatter_(1, scores.topk(k, dim=1).indices, 1.0)
            loss = torch.nn.functional.cross_entropy(net(torch.cat([mask, mask * xb], 1)), y[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if bar is not None and (step + 1) % 50 == 0:
                bar.update(task, completed=step + 1, description=f"training a k={k} judge, loss {loss:.3f}")
    finally:
        if bar is not None:
            bar.stop()
    net.eval()
    meta: dict[str, Any] = {
        "dataset": train.name,
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "train_images": len(train),
    }
    judge = MLPJudge(
        net,
        train.shape,
        train.num_classes,
        k=k,
        pixels=pool,
        hidden=hidden,
        meta=meta,
        name=f"{train.name}-k{k}",
    )
    if test is not None:
        judge.meta["accuracy"] = judge_accuracy(judge, test, k, masks_per_image=eval_masks, pixels=pool)
        judge.meta["test_images"] = len(test)
    return judge


# ---- the default judge ----------------------------------------------------------------------------
def cache_dir() -> Path:
    """Where judges trained on first use are kept: ``$REDQUEEN_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/redqueen``, else ``~/.cache/redqueen``."""
    if os.environ.get("REDQUEEN_CACHE_DIR"):
        return Path(os.environ["REDQUEEN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "redqueen"


_DEFAULTS: dict[tuple[int, str], MLPJudge] = {}


def default_judge(k: int = 6, pixels: PixelPool = "nonzero") -> MLPJudge:
    """The judge for the 8x8 digits with ``k`` pixels (see the module docstring): shipped for k = 4
    and 6 with nonzero-pixel masks, otherwise trained on first use and cached. One object per process."""
    k = _check_k(k, 64)
    pool = _check_pixels(pixels)
    judge = _DEFAULTS.get((k, pool))
    if judge is not None:
        return judge
    if pool == "nonzero" and k in SHIPPED and (_DATA_DIR / SHIPPED[k]).is_file():
        judge = MLPJudge.load(_DATA_DIR / SHIPPED[k])
    else:
        path = cache_dir() / "debate" / f"judge_digits_k{k}_{pool}_v{FILE_VERSION}.pt"
        if path.is_file():
            judge = MLPJudge.load(path)
        else:
            logger.warning(
                "no stored judge for k=%d (%s pixels): training one on the 8x8 digits (about half a minute "
                "on one core); it is cached at %s",
                k,
                pool,
                path,
            )
            judge = train_judge(DIGITS, k, pixels=pool)
            try:
                judge.save(path)
            except OSError as err:  # a read-only home: the judge still works, it is trained again later
                logger.warning("could not cache the judge at %s: %s", path, err)
    _DEFAULTS[(k, pool)] = judge
    return judge
