"""The paper's table: judge alone vs debate, for each first mover and their mean.

:func:`evaluate_debate` plays, for every image, one debate per possible lie (precommitment; the liar
wins the image if **any** of its lies wins, the rule of Irving et al.) or one debate without a claim,
once with the honest debater revealing first and once with the liar first. The *debate accuracy* of
an order is the share of images the honest debater wins; the table also has the judge alone on random
masks (:func:`~redqueen.envs.debate.judge.judge_accuracy`) and the mean of the two orders.

Always report who debated: with exact play (``debater="minimax"``, one solve per image gives every
lie and both orders) the result is a property of the judge; with MCTS it also depends on the
rollouts. :class:`DebateReport` keeps the debater, its settings and the per-image results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from redqueen.agents.base import Agent
from redqueen.envs.debate.agents import make_debater
from redqueen.envs.debate.game import HONEST, LIAR, PixelDebate
from redqueen.envs.debate.judge import judge_accuracy
from redqueen.envs.debate.solver import solve_image
from redqueen.game import agent_observation

__all__ = ["PAPER_MNIST", "DebateReport", "debate_table", "evaluate_debate"]

# Irving, Christiano and Amodei (2018), MNIST, precommit, MCTS debaters with 10,000 rollouts per move
PAPER_MNIST = {
    4: {"judge_alone": 0.482, "honest_first": 0.838, "liar_first": 0.867, "mean": 0.852},
    6: {"judge_alone": 0.594, "honest_first": 0.874, "liar_first": 0.904, "mean": 0.889},
}

DebaterSpec = str | Callable[[PixelDebate, int], Agent]


@dataclass
class DebateReport:
    """Judge alone and debate accuracy of one setting (see the module docstring)."""

    k: int
    debater: str
    liar: str
    precommit: bool
    pixels: str
    images: int
    judge_alone: float
    honest_first: float
    liar_first: float
    mean: float
    per_lie_honest_first: float | None
    """The softer statistic: honest wins averaged over (image, lie) games instead of images."""
    per_lie_liar_first: float | None
    seconds: float
    image_indices: list[int] = field(default_factory=list)
    honest_first_wins: list[bool] = field(default_factory=list)
    liar_first_wins: list[bool] = field(default_factory=list)

    def to_dict(self, per_image: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not per_image:
            for key in ("image_indices", "honest_first_wins", "liar_first_wins"):
                data.pop(key)
        return data

    def row(self) -> list[str]:
        """Table cells: setting, images, judge alone, honest first, liar first, mean."""
        who = self.debater if self.debater == self.liar else f"{self.debater} vs {self.liar}"
        mode = "precommit" if self.precommit else "no precommit"
        return [
            f"k={self.k}, {who}, {mode}",
            str(self.images),
            f"{self.judge_alone:.1%}",
            f"{self.honest_first:.1%}",
            f"{self.liar_first:.1%}",
            f"{self.mean:.1%}",
        ]


def _name(spec: DebaterSpec) -> str:
    if isinstance(spec, str):
        return spec
    return getattr(spec, "__name__", type(spec).__name__)


def _agent(spec: DebaterSpec, game: PixelDebate, seed: int) -> Agent:
    if isinstance(spec, str):
        return make_debater(spec, game, seed=seed)
    return spec(game, seed)


def _play(state: Any, agents: Sequence[Agent], seed: int) -> int:
    """Play one debate to the end; returns the winner's seat."""
    for i, agent in enumerate(agents):
        agent.reset(seed=seed + i)
    while not state.is_terminal():
        player = state.current_player
        state.apply_action(int(agents[player].act(agent_observation(state, player))))
    return HONEST if state.returns()[HONEST] > 0 else LIAR


def _image_results(
    game: PixelDebate, index: int, honest: DebaterSpec, liar: DebaterSpec, seed: int
) -> tuple[dict[str, bool], dict[str, list[int]]]:
    """(image won by the honest debater per order, honest wins per lie per order) of one image."""
    label = int(game.dataset.labels[index])
    if honest == "minimax" and liar == "minimax":
        image = game.dataset.flat[index]
        values = solve_image(
            game.judge, image, label, game.k, np.flatnonzero(game.pool_of(index)), precommit=game.precommit
        )
        return (
            {order: bool(v.all()) for order, v in values.items()},
            {order: [int(x) for x in v] for order, v in values.items()},
        )
    lies: list[int | None] = [c for c in range(game.num_classes) if c != label] if game.precommit else [None]
    agents = [_agent(honest, game, seed), _agent(liar, game, seed + 1)]
    won: dict[str, bool] = {}
    per_lie: dict[str, list[int]] = {}
    for order, first in (("honest_first", "honest"), ("liar_first", "liar")):
        results = []
        for j, lie in enumerate(lies):
            state = game.state_for(index, lie=lie, first=first)
            game_seed = seed * 1000 + 20 * j + (0 if first == "honest" else 10)
            results.append(int(_play(state, agents, game_seed) == HONEST))
        won[order] = all(results)
        per_lie[order] = results
    return won, per_lie


def _chunk(args: tuple[PixelDebate, list[int], DebaterSpec, DebaterSpec, int]) -> list[tuple]:
    game, indices, honest, liar, seed = args
    return [(i, *_image_results(game, i, honest, liar, seed + 7919 * i)) for i in indices]


def evaluate_debate(
    game: PixelDebate | None = None,
    *,
    debater: DebaterSpec = "minimax",
    liar: DebaterSpec | None = None,
    images: int | Sequence[int] | None = None,
    seed: int = 0,
    judge_masks: int = 20,
    workers: int = 1,
    progress: bool = False,
    **game_params: Any,
) -> DebateReport:
    """Judge alone vs debate on the game's images (see the module docstring).

    Args:
        game: the pixel debate (its judge, k, precommit, pixel pool and split); or ``game_params``
            for a new one (e.g. ``k=4``). The game's ``first`` and ``lie`` are ignored: both orders and
            every lie are played.
        debater: the honest debater: ``"minimax"`` (exact), ``"mcts"``/``"mctsN"``, ``"greedy"``,
            ``"random"``, or a callable ``(game, seed) -> Agent``.
        liar: the liar's debater (default: the same as ``debater``).
        images: how many images (the first N eligible ones of the split), which ones (indices), or all.
        seed: seeds of the debaters (per image and game) and of the judge's random masks.
        judge_masks: random masks per image for the judge-alone accuracy.
        workers: processes to share the images among (the result does not depend on it); the game
            and a callable debater must then be picklable (a module-level function, not a lambda).
        progress: show a rich progress bar.
    """
    if game is None:
        game = PixelDebate(**game_params)
    elif game_params:
        raise TypeError("give either a game or game parameters, not both")
    liar = debater if liar is None else liar
    eligible = game.eligible
    if images is None:
        chosen = eligible.tolist()
    elif isinstance(images, int | np.integer) and not isinstance(images, bool):
        if images < 1:
            raise ValueError(f"images must be a positive number or a list of indices, got {images}")
        chosen = eligible[: int(images)].tolist()
    else:
        chosen = [int(i) for i in images]
        bad = sorted(set(chosen) - set(eligible.tolist()))
        if bad:
            raise ValueError(f"images {bad[:5]} are not playable images of this split (k={game.k})")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    started = time.perf_counter()
    results: dict[int, tuple] = {}
    bar = None
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=False)
        bar.start()
        task = bar.add_task(f"debates k={game.k} ({_name(debater)})", total=len(chosen))
    try:
        if workers == 1:
            for i in chosen:
                results[i] = _chunk((game, [i], debater, liar, seed))[0][1:]
                if bar is not None:
                    bar.advance(task)
        else:
            import multiprocessing

            size = max(1, min(8, len(chosen) // (4 * workers) or 1))
            jobs = [(game, chosen[s : s + size], debater, liar, seed) for s in range(0, len(chosen), size)]
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                for rows in pool.map(_chunk, jobs):
                    for i, won, per_lie in rows:
                        results[i] = (won, per_lie)
                    if bar is not None:
                        bar.advance(task, len(rows))
    finally:
        if bar is not None:
            bar.stop()
    hf = [results[i][0]["honest_first"] for i in chosen]
    lf = [results[i][0]["liar_first"] for i in chosen]
    lies_hf = [x for i in chosen for x in results[i][1]["honest_first"]]
    lies_lf = [x for i in chosen for x in results[i][1]["liar_first"]]
    alone = judge_accuracy(
        game.judge,
        game.dataset,
        game.k,
        masks_per_image=judge_masks,
        pixels=game.pixels,
        seed=seed,
        indices=chosen,
    )
    honest_first, liar_first = float(np.mean(hf)), float(np.mean(lf))
    return DebateReport(
        k=game.k,
        debater=_name(debater),
        liar=_name(liar),
        precommit=game.precommit,
        pixels=game.pixels,
        images=len(chosen),
        judge_alone=alone,
        honest_first=honest_first,
        liar_first=liar_first,
        mean=(honest_first + liar_first) / 2,
        per_lie_honest_first=float(np.mean(lies_hf)) if game.precommit else None,
        per_lie_liar_first=float(np.mean(lies_lf)) if game.precommit else None,
        seconds=time.perf_counter() - started,
        image_indices=list(chosen),
        honest_first_wins=hf,
        liar_first_wins=lf,
    )


def debate_table(reports: Sequence[DebateReport], title: str = "Pixel debate on the 8x8 digits") -> Any:
    """A rich Table of reports, one row each (the paper's columns)."""
    from rich.table import Table

    table = Table(title=title)
    for column in ("setting", "images", "judge alone", "honest first", "liar first", "mean"):
        table.add_column(column, justify="left" if column == "setting" else "right")
    for report in reports:
        table.add_row(*report.row())
    return table
