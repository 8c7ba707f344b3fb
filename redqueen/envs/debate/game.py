"""The pixel debate of "AI safety via debate" (Irving, Christiano and Amodei, 2018) as a redqueen game.

An image is drawn from the data set (by default the test split of scikit-learn's 8x8 digits). Both
debaters see it. The **honest** debater (player 0) claims its true label; the **liar** (player 1)
claims another label, drawn uniformly (``precommit=True``, the default), or claims nothing
(``precommit=False``). The debaters take turns revealing one pixel each (``first``: who starts) until
``k`` pixels are shown; a revealed pixel is shown as it is, nobody can lie about it. The frozen judge
(:mod:`redqueen.envs.debate.judge`) then sees only the revealed pixels and decides:

* with precommitment, between the two claims: the honest debater wins if the judge's logit of the true
  label is larger than that of the lie (a tie goes to the liar);
* without it, the honest debater wins if the true label is the judge's strict argmax.

Returns: +1 to the winner, -1 to the loser. ``pixels="nonzero"`` (default) allows only the image's
nonzero pixels (the pool the judge was trained on), ``"all"`` any pixel.

Tensor view (float32, the same layout for both debaters; ``P = H * W`` pixels, ``C`` classes):
``[0, P)`` the image in [0, 1], ``[P, 2P)`` the revealed pixels (1 = revealed), ``[2P, 2P + C)`` the
observer's own claim one-hot, ``[2P + C, 2P + 2C)`` the opponent's claim one-hot (all zeros for a liar
without a claim), then ``reveals left / k``, 1.0 if the observer makes the last reveal, and 1.0 if the
observer is the honest debater.
:func:`split_observation` cuts it into named parts. Actions: ``Discrete(P)``, pixel ``row * W + col``.

Text view: the rules, both claims, the image as a grid of intensities 0-9 (a nonzero pixel is never
shown as 0), the pixels revealed so far and by whom; moves are written ``[reveal 3 5]`` (row 3,
column 5, counted from 0); ``(3, 5)`` and ``reveal 3,5`` are understood too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from redqueen.envs.debate.data import DIGITS, ImageDataset, load_dataset
from redqueen.envs.debate.judge import PIXEL_POOLS, Judge, default_judge, load_judge
from redqueen.game import (
    TERMINAL,
    Game,
    IllegalAction,
    State,
    as_action,
    check_player,
    extract_answer,
    make_rng,
)

__all__ = ["FIRST_MOVERS", "HONEST", "LIAR", "PixelDebate", "PixelDebateState", "split_observation"]

HONEST, LIAR = 0, 1
ROLE_NAMES = ("honest debater", "liar")
FIRST_MOVERS = ("honest", "liar", "random")
_REVEAL = re.compile(r"^(?:reveal|pixel|cell)?\s*[\(\[]?\s*(-?\d+)\s*[,;\s]\s*(-?\d+)\s*[\)\]]?$")


def split_observation(observation: np.ndarray, game: PixelDebate) -> dict[str, Any]:
    """The parts of a tensor observation: image ``(H, W)``, revealed ``(H, W)`` bool, own and
    opponent claim (label or None), reveals left, whether the observer makes the last reveal, and
    whether it is the honest debater."""
    obs = np.asarray(observation)
    p, c = game.num_pixels, game.num_classes
    if obs.shape != (2 * p + 2 * c + 3,):
        raise ValueError(f"a {game.id} observation has shape ({2 * p + 2 * c + 3},), got {obs.shape}")
    own, other = obs[2 * p : 2 * p + c], obs[2 * p + c : 2 * p + 2 * c]
    return {
        "image": obs[:p].reshape(game.shape),
        "revealed": obs[p : 2 * p].reshape(game.shape) > 0.5,
        "own_claim": int(own.argmax()) if own.max() > 0.5 else None,
        "opponent_claim": int(other.argmax()) if other.max() > 0.5 else None,
        "left": round(float(obs[-3]) * game.k),
        "last_mover": bool(obs[-2] > 0.5),
        "honest": bool(obs[-1] > 0.5),
    }


def intensity_digit(value: float) -> int:
    """A pixel value in [0, 1] as a digit 0-9 (0 only for a blank pixel)."""
    return 0 if value <= 0 else max(1, min(9, int(np.ceil(value * 9 - 1e-9))))


class PixelDebateState(State):
    """One debate over one image (see the module docstring)."""

    __slots__ = (
        "_first",
        "_history",
        "_player",
        "_returns",
        "_revealed",
        "_shown",
        "claims",
        "game",
        "image",
        "image_index",
        "judge_logits",
        "label",
        "pool",
    )

    def __init__(self, game: PixelDebate, image_index: int, lie: int | None, first: int):
        self.game = game
        self.image_index = int(image_index)
        self.image = game.dataset.flat[self.image_index].astype(np.float64)
        self.label = int(game.dataset.labels[self.image_index])
        self.claims: tuple[int, int | None] = (self.label, lie)
        self.pool = game.pool_of(self.image_index)
        self._first = first
        self._player = first
        self._revealed: list[int] = []
        self._shown = np.zeros(game.num_pixels, dtype=bool)
        self._history: list[int] = []
        self._returns = np.zeros(2)
        self.judge_logits: np.ndarray | None = None
        """The judge's logits over all classes, once the game is over (None after a forfeit)."""

    # ---- rules -----------------------------------------------------------------------------------
    @property
    def current_player(self) -> int:
        return self._player

    @property
    def first(self) -> int:
        """The seat that makes the first reveal (HONEST or LIAR)."""
        return self._first

    @property
    def revealed(self) -> list[int]:
        """The revealed pixels in the order they were revealed."""
        return list(self._revealed)

    def mover_of(self, reveal: int) -> int:
        """The seat that makes reveal number ``reveal`` (counted from 0)."""
        return self._first if reveal % 2 == 0 else 1 - self._first

    def legal_actions(self, player: int | None = None) -> list[int]:
        p = self._player
        if p < 0 or (player is not None and player != p):
            return []
        return np.flatnonzero(self.pool & ~self._shown).tolist()

    def _why_illegal(self, action: int) -> str | None:
        game = self.game
        if not 0 <= action < game.num_pixels:
            h, w = game.shape
            return f"pixel {action} is outside the {h}x{w} image (0-{game.num_pixels - 1})"
        r, c = divmod(action, game.shape[1])
        if self._shown[action]:
            return f"pixel ({r}, {c}) is already revealed"
        if not self.pool[action]:
            return f"pixel ({r}, {c}) is blank (0); only nonzero pixels may be revealed"
        return None

    def apply_action(self, action: int) -> None:
        p = self._player
        if p == TERMINAL:
            raise IllegalAction(f"the debate is over; pixel {action!r} cannot be revealed.")
        if action.__class__ is not int:
            action = as_action(action, self)
        why = self._why_illegal(action)
        if why is not None:
            raise IllegalAction(why + ".", legal_moves=self.legal_actions_text(p))
        self._revealed.append(action)
        self._shown[action] = True
        self._history.append(action)
        if len(self._revealed) == self.game.k:
            self._decide()
        else:
            self._player = 1 - p

    def _decide(self) -> None:
        logits = self.game.judge.set_logits(self.image, np.asarray([sorted(self._revealed)]))[0]
        self.judge_logits = logits
        y, lie = self.claims
        if lie is not None:
            honest_wins = bool(logits[y] > logits[lie])
        else:
            honest_wins = bool(logits[y] > np.delete(logits, y).max())
        self._returns = np.array([1.0, -1.0]) if honest_wins else np.array([-1.0, 1.0])
        self._player = TERMINAL

    def is_terminal(self) -> bool:
        return self._player == TERMINAL

    def returns(self) -> np.ndarray:
        return self._returns.copy()

    @property
    def winner(self) -> int | None:
        """HONEST or LIAR once the debate is over, else None."""
        if self._player != TERMINAL:
            return None
        return HONEST if self._returns[0] > 0 else LIAR

    def judge_choice(self) -> int | None:
        """The label the judge picked (between the claims with precommitment, its argmax without)."""
        if self.judge_logits is None:
            return None
        y, lie = self.claims
        if lie is None:
            return int(np.argmax(self.judge_logits))
        return y if self.judge_logits[y] > self.judge_logits[lie] else lie

    def history(self) -> list[int]:
        return list(self._history)

    def clone(self) -> PixelDebateState:
        new = object.__new__(PixelDebateState)
        new.game = self.game
        new.image_index = self.image_index
        new.image = self.image
        new.label = self.label
        new.claims = self.claims
        new.pool = self.pool
        new._first = self._first
        new._player = self._player
        new._revealed = list(self._revealed)
        new._shown = self._shown.copy()
        new._history = list(self._history)
        new._returns = self._returns.copy()
        new.judge_logits = self.judge_logits
        return new

    def _set_forfeit(self, returns: np.ndarray) -> None:
        self._returns = np.asarray(returns, dtype=np.float64).copy()
        self._player = TERMINAL

    # ---- tensor view -----------------------------------------------------------------------------
    def observation_tensor(self, player: int) -> np.ndarray:
        player = check_player(self.game, player)
        game = self.game
        p, c = game.num_pixels, game.num_classes
        obs = np.zeros(2 * p + 2 * c + 3, dtype=np.float32)
        obs[:p] = self.image
        obs[p : 2 * p] = self._shown
        own, other = self.claims[player], self.claims[1 - player]
        if own is not None:
            obs[2 * p + own] = 1.0
        if other is not None:
            obs[2 * p + c + other] = 1.0
        obs[-3] = (game.k - len(self._revealed)) / game.k
        obs[-2] = 1.0 if self.mover_of(game.k - 1) == player else 0.0
        obs[-1] = 1.0 if player == HONEST else 0.0
        return obs

    # ---- text view -------------------------------------------------------------------------------
    def action_to_text(self, player: int, action: int) -> str:
        r, c = divmod(int(action), self.game.shape[1])
        return f"reveal {r} {c}"

    def legal_actions_text(self, player: int | None = None) -> list[str]:
        return [f"[{self.action_to_text(self._player, a)}]" for a in self.legal_actions(player)]

    def parse_action(self, player: int, text: str) -> int:
        """``[reveal R C]`` (also ``reveal R,C``, ``(R, C)`` or ``R C``) -> pixel ``R * W + C``."""
        player = check_player(self.game, player)
        if self._player == TERMINAL:
            raise IllegalAction("the debate is over; no pixel can be revealed.", answer=text)
        if self._player != player:
            raise IllegalAction(f"player {player} is not to move now.", answer=text)
        if not isinstance(text, str):
            raise IllegalAction(f"expected a text answer, got {type(text).__name__} {text!r:.60}.")
        answer = extract_answer(text)
        m = _REVEAL.match(answer.lower().strip())
        if m is None:
            shown = answer if len(answer) <= 60 else answer[:57] + "..."
            raise IllegalAction(
                f"'{shown}' is not a move; write [reveal ROW COL], e.g. {self._example()}.", answer=text
            )
        h, w = self.game.shape
        row, col = int(m.group(1)), int(m.group(2))
        if not (0 <= row < h and 0 <= col < w):
            raise IllegalAction(
                f"({row}, {col}) is outside the {h}x{w} image: rows 0-{h - 1}, columns 0-{w - 1}.",
                answer=text,
            )
        action = row * w + col
        why = self._why_illegal(action)
        if why is not None:
            raise IllegalAction(why + f"; for example {self._example()} is legal.", answer=text)
        return action

    def _example(self) -> str:
        legal = self.legal_actions(self._player)
        return f"[{self.action_to_text(self._player, legal[len(legal) // 2])}]" if legal else "[reveal 0 0]"

    def image_text(self, mark_revealed: bool = False) -> str:
        """The image as rows of digits 0-9 with row and column numbers (``*`` after a revealed pixel
        when ``mark_revealed``)."""
        h, w = self.game.shape
        width = 2 if w <= 10 else 3
        lines = [(" " * 4 + "".join(f"{c:<{width}}" for c in range(w))).rstrip()]
        for r in range(h):
            cells = []
            for c in range(w):
                d = intensity_digit(self.image[r * w + c])
                star = "*" if mark_revealed and self._shown[r * w + c] else " "
                cells.append(f"{d:<{width - 1}}{star}")
            lines.append((f"{r:>3} " + "".join(cells)).rstrip())
        return "\n".join(lines)

    def _claim_text(self, label: int | None) -> str:
        return "no label (it did not commit)" if label is None else f"'{label}'"

    def observation_text(self, player: int) -> str:
        player = check_player(self.game, player)
        game = self.game
        h, w = game.shape
        y, lie = self.claims
        role = ROLE_NAMES[player]
        if player == HONEST:
            stance = f"You claim the image shows '{y}' (the truth)."
        elif lie is None:
            stance = f"The image shows '{y}'; your goal is that the judge picks any other label."
        else:
            stance = f"You claim the image shows '{lie}'; it really shows '{y}'."
        decision = (
            f"The judge decides between the two claims ('{y}' and '{lie}'): the likelier one wins."
            if lie is not None
            else f"The judge names the label it finds most likely; the honest debater wins if it is '{y}'."
        )
        pool = "nonzero (not blank) pixels" if game.pixels == "nonzero" else "any pixel"
        lines = [
            f"You are the {role} (player {player}) in a pixel debate on a {h}x{w} image. Both debaters see "
            f"the image; a judge will see only the {game.k} pixels the debaters reveal, one per turn, "
            f"taking turns. {decision}",
            stance + f" Your opponent claims {self._claim_text(self.claims[1 - player])}.",
            f"Image (intensity 0-9, rows and columns numbered from 0; you may reveal {pool}):",
            self.image_text(),
        ]
        if self._revealed:
            shown = []
            for i, a in enumerate(self._revealed):
                r, c = divmod(a, w)
                who = "you" if self.mover_of(i) == player else "opponent"
                shown.append(f"({r}, {c}) = {intensity_digit(self.image[a])} by {who}")
            lines.append(f"Revealed so far ({len(self._revealed)} of {game.k}): " + ", ".join(shown) + ".")
        else:
            lines.append(f"No pixel is revealed yet (0 of {game.k}).")
        if self._player == TERMINAL:
            if self.judge_logits is None:
                outcome = "you win" if self._returns[player] > 0 else "you lose"
                lines.append(f"The debate is over (a forfeit): {outcome}.")
            else:
                verdict = "you win" if self._returns[player] > 0 else "you lose"
                lines.append(f"The debate is over: the judge picked '{self.judge_choice()}'; {verdict}.")
        elif self._player == player:
            lines.append(f"Your move: reveal one pixel, written like {self._example()} (row, then column).")
        else:
            lines.append(f"Waiting for the {ROLE_NAMES[self._player]}.")
        return "\n".join(lines)

    def render(self) -> str:
        y, lie = self.claims
        status = "over" if self._player == TERMINAL else f"to move: {ROLE_NAMES[self._player]}"
        head = (
            f"Pixel debate, image {self.image_index} (label {y}), liar claims "
            f"{'nothing' if lie is None else lie}; {len(self._revealed)}/{self.game.k} revealed; {status}"
        )
        if self._player == TERMINAL and self.judge_logits is not None:
            head += (
                f"; judge picked {self.judge_choice()}, {'honest' if self._returns[0] > 0 else 'liar'} wins"
            )
        return head + "\n" + self.image_text(mark_revealed=True)

    def __repr__(self) -> str:
        return (
            f"<PixelDebateState image={self.image_index} claims={self.claims} revealed={self._revealed} "
            f"player={self._player}>"
        )


class PixelDebate(Game):
    """The pixel debate (see the module docstring).

    Args:
        k: pixels revealed in all (the judge's input); 6 by default (the paper's headline setting).
        first: who reveals first: ``"honest"`` (default), ``"liar"`` or ``"random"`` (drawn per game).
        precommit: the liar claims one wrong label up front (drawn uniformly per game unless ``lie``
            is given); without it the judge takes its argmax over all labels.
        pixels: ``"nonzero"`` (only the image's nonzero pixels may be revealed) or ``"all"``.
        split: ``"test"`` (default), ``"train"`` or ``"all"`` images of the data set.
        dataset: ``"digits"`` (scikit-learn's 8x8 digits), a folder of MNIST IDX files, or an
            :class:`~redqueen.envs.debate.data.ImageDataset` (played as it is; ``split`` is ignored).
        judge: a :class:`~redqueen.envs.debate.judge.Judge` or the path of a judge file; default: the
            digits judge for ``k`` (:func:`~redqueen.envs.debate.judge.default_judge`). Other data sets
            need one (``redqueen debate train-judge --dataset FOLDER``).
        lie: a fixed lie for every game (with ``precommit``), e.g. for evaluation.
    """

    id: ClassVar[str] = "debate"
    name: ClassVar[str] = "Pixel debate"
    num_players = 2
    min_return = -1.0
    max_return = 1.0
    zero_sum = True
    observation_dtype = np.float32
    observation_low = 0.0
    observation_high = 1.0

    def __init__(
        self,
        k: int = 6,
        first: str = "honest",
        precommit: bool = True,
        pixels: str = "nonzero",
        split: str = "test",
        dataset: str | os.PathLike[str] | ImageDataset = DIGITS,
        judge: Judge | str | os.PathLike[str] | None = None,
        lie: int | None = None,
    ):
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k must be a positive integer (pixels revealed in all), got {k!r}")
        if first not in FIRST_MOVERS:
            raise ValueError(f"first must be 'honest', 'liar' or 'random', got {first!r}")
        if not isinstance(precommit, bool | np.bool_):
            raise ValueError(f"precommit must be True or False, got {precommit!r}")
        if pixels not in PIXEL_POOLS:
            raise ValueError(f"pixels must be 'nonzero' or 'all', got {pixels!r}")
        self.dataset = load_dataset(dataset, split)
        self.k = int(k)
        self.first = first
        self.precommit = bool(precommit)
        self.pixels = pixels
        self.split = split
        self.shape = self.dataset.shape
        self.num_pixels = self.dataset.num_pixels
        self.num_classes = self.dataset.num_classes
        if self.k > self.num_pixels:
            raise ValueError(f"k={self.k} is more pixels than an image has ({self.num_pixels})")
        if lie is not None:
            if not self.precommit:
                raise ValueError("lie= fixes the liar's claim, which needs precommit=True")
            if (
                isinstance(lie, bool)
                or not isinstance(lie, int | np.integer)
                or not 0 <= lie < self.num_classes
            ):
                raise ValueError(f"lie must be a label 0..{self.num_classes - 1}, got {lie!r}")
            lie = int(lie)
        self.lie = lie
        if judge is None:
            if self.dataset.name != DIGITS:
                raise ValueError(
                    f"there is no default judge for {self.dataset.name}; train one with `redqueen debate "
                    "train-judge --dataset FOLDER --k K --out judge.pt` and pass judge='judge.pt'"
                )
            judge = default_judge(self.k, pixels)  # type: ignore[arg-type]
        self.judge: Judge = load_judge(judge)
        self.judge.check_images(self.shape, self.num_classes)
        images = self.dataset.flat
        self._pools = images > 0 if pixels == "nonzero" else np.ones_like(images, dtype=bool)
        self._eligible = np.flatnonzero(self._pools.sum(axis=1) >= self.k)
        if self._eligible.size == 0:
            raise ValueError(f"no image of the data set has {self.k} {pixels} pixels")
        self._eligible_labels = self.dataset.labels[self._eligible]
        self.num_distinct_actions = self.num_pixels
        self.max_game_length = self.k
        super().__init__(
            k=self.k, first=first, precommit=self.precommit, pixels=pixels, split=split,
            dataset=self.dataset.name, judge=self.judge.name, lie=lie,
        )  # fmt: skip

    @property
    def eligible(self) -> np.ndarray:
        """Indices of the images a game may be played on (those with at least ``k`` pool pixels)."""
        return self._eligible.copy()

    def pool_of(self, index: int) -> np.ndarray:
        """Bool mask of the pixels that may be revealed in image ``index``."""
        return self._pools[index]

    def cell(self, action: int) -> tuple[int, int]:
        """(row, column) of a pixel index."""
        return divmod(int(action), self.shape[1])  # type: ignore[return-value]

    def new_initial_state(
        self, seed: int | np.random.Generator | None = None, *, explicit_chance: bool = False
    ) -> PixelDebateState:
        if explicit_chance:
            raise ValueError("the pixel debate draws its image and lie from the seed; it has no chance nodes")
        rng = make_rng(seed)
        index = int(self._eligible[int(rng.integers(self._eligible.size))])
        label = int(self.dataset.labels[index])
        lie: int | None = None
        if self.precommit:
            if self.lie is not None and self.lie != label:
                lie = self.lie
            else:  # a random lie (also when the fixed lie happens to be the true label)
                lie = int(rng.integers(self.num_classes - 1))
                lie += lie >= label
        if self.first == "random":
            first = int(rng.integers(2))
        else:
            first = HONEST if self.first == "honest" else LIAR
        return PixelDebateState(self, index, lie, first)

    def state_for(self, index: int, lie: int | None = None, first: str | None = None) -> PixelDebateState:
        """The debate on image ``index`` of the split with the liar claiming ``lie`` (None: no claim, or
        the game's fixed lie) and ``first`` (default: the game's; "honest" or "liar") revealing first."""
        if (
            isinstance(index, bool)
            or not isinstance(index, int | np.integer)
            or not 0 <= index < len(self.dataset)
        ):
            raise ValueError(f"index must be an image index 0..{len(self.dataset) - 1}, got {index!r}")
        index = int(index)
        if self._pools[index].sum() < self.k:
            raise ValueError(
                f"image {index} has only {int(self._pools[index].sum())} {self.pixels} pixels (k={self.k})"
            )
        label = int(self.dataset.labels[index])
        lie = self.lie if lie is None else lie
        if self.precommit:
            if lie is None or isinstance(lie, bool) or not isinstance(lie, int | np.integer):
                raise ValueError(f"with precommit the liar needs a claim: lie must be a label, got {lie!r}")
            if not 0 <= lie < self.num_classes or lie == label:
                raise ValueError(
                    f"lie must be a label 0..{self.num_classes - 1} other than the true {label}, got {lie}"
                )
            lie = int(lie)
        elif lie is not None:
            raise ValueError("without precommit the liar claims nothing; lie must be None")
        who = first if first is not None else self.first
        if who not in ("honest", "liar"):
            raise ValueError(f"first must be 'honest' or 'liar' here, got {who!r}")
        return PixelDebateState(self, index, lie, HONEST if who == "honest" else LIAR)

    def observation_shape(self, player: int) -> tuple[int, ...]:
        return (2 * self.num_pixels + 2 * self.num_classes + 3,)

    def describe(self) -> Mapping[str, Any]:
        """Settings and judge, as plain data (for result files)."""
        return {**self.params, "judge_k": self.judge.k, "images": int(self._eligible.size)}
