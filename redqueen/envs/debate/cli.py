"""``redqueen debate ...``: train a judge, evaluate debaters.

* ``redqueen debate train-judge [--k K] [--dataset digits|FOLDER] [--pixels nonzero|all] [--steps N]
  [--batch-size B] [--hidden 128,128] [--lr LR] [--seed S] --out judge.pt``: train a sparse-pixel judge
  on random ``k``-pixel masks (:func:`~redqueen.envs.debate.judge.train_judge`), report its accuracy
  alone on the test images, and save it (``PixelDebate(judge="judge.pt")`` loads it);
* ``redqueen debate eval [--k K] [--debater minimax|mctsN|greedy|random] [--liar ...] [--images N]
  [--judge PATH] [--dataset ...] [--split ...] [--no-precommit] [--pixels ...] [--workers N]``: judge
  alone vs debate for both first movers (:func:`~redqueen.envs.debate.evaluation.evaluate_debate`).

``add_parser(sub)`` adds the group to the ``redqueen`` command's subparsers.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from redqueen.cli import _positive_int

__all__ = ["add_parser", "run_eval", "run_train_judge"]


def _hidden(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer widths like 128,128, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"expected positive layer widths like 128,128, got {text!r}")
    return widths


def _dataset(text: str) -> str:
    return text


def _readable(handler: Any) -> Any:
    """``handler`` with file errors (a missing judge or data folder) raised as RedqueenError, which the
    ``redqueen`` command prints as an error line instead of a traceback."""
    from redqueen.game import RedqueenError

    def run(args: argparse.Namespace, console: Any) -> dict[str, Any]:
        try:
            return handler(args, console)
        except OSError as err:
            raise RedqueenError(str(err)) from None

    run.__doc__ = handler.__doc__
    return run


def run_train_judge(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    """``redqueen debate train-judge``: train, report and save a judge."""
    import time

    from redqueen.envs.debate.judge import train_judge

    started = time.perf_counter()
    judge = train_judge(
        args.dataset,
        args.k,
        pixels=args.pixels,
        hidden=args.hidden,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        progress=not args.quiet,
    )
    seconds = time.perf_counter() - started
    path = judge.save(args.out)
    accuracy = judge.meta.get("accuracy")
    shown = f"{accuracy:.1%}" if accuracy is not None else "n/a"
    console.print(
        f"judge k={args.k} ({args.pixels} pixels) on {judge.meta['dataset']}: accuracy alone {shown} on "
        f"random masks of {judge.meta.get('test_images', 0)} test images; {args.steps} steps in "
        f"{seconds:.1f} s; saved to {path}",
        markup=False,
    )
    return {"path": str(path), "seconds": seconds, "k": args.k, "pixels": args.pixels, **judge.meta}


def run_eval(args: argparse.Namespace, console: Any) -> dict[str, Any]:
    """``redqueen debate eval``: the paper's table for one setting."""
    from redqueen.envs.debate.evaluation import debate_table, evaluate_debate
    from redqueen.envs.debate.game import PixelDebate

    game = PixelDebate(
        k=args.k,
        precommit=not args.no_precommit,
        pixels=args.pixels,
        split=args.split,
        dataset=args.dataset,
        judge=args.judge,
    )
    report = evaluate_debate(
        game,
        debater=args.debater,
        liar=args.liar,
        images=args.images,
        seed=args.seed,
        workers=args.workers,
        progress=not args.quiet,
    )
    console.print(
        debate_table([report], title=f"Pixel debate ({game.dataset.name}, judge {game.judge.name})")
    )
    console.print(f"{report.images} images in {report.seconds:.1f} s", markup=False)
    return {"game": dict(game.describe()), **report.to_dict(per_image=True)}


def add_parser(sub: Any) -> None:
    """The ``debate`` subcommand group: train-judge, eval."""
    debate = sub.add_parser("debate", help="pixel debate: train a sparse-pixel judge, evaluate debaters")
    group = debate.add_subparsers(dest="debate_command", required=True, metavar="DEBATE_COMMAND")

    train = group.add_parser("train-judge", help="train a judge on random k-pixel masks and save it")
    train.add_argument("--k", type=_positive_int, default=6, help="pixels the judge sees (default 6)")
    train.add_argument(
        "--dataset", type=_dataset, default="digits", help="'digits' (default) or a folder of MNIST IDX files"
    )
    train.add_argument(
        "--pixels", choices=("nonzero", "all"), default="nonzero", help="mask pool (default nonzero)"
    )
    train.add_argument("--steps", type=_positive_int, default=6000, help="training steps (default 6000)")
    train.add_argument("--batch-size", type=_positive_int, default=512, help="batch size (default 512)")
    train.add_argument(
        "--hidden", type=_hidden, default=(128, 128), help="hidden layer widths (default 128,128)"
    )
    train.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 0.002)")
    train.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    train.add_argument("--out", type=Path, required=True, help="where to save the judge (.pt)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON")
    train.set_defaults(handler=_readable(run_train_judge))

    ev = group.add_parser("eval", help="judge alone vs debate accuracy for both first movers")
    ev.add_argument("--k", type=_positive_int, default=4, help="pixels revealed (default 4)")
    ev.add_argument(
        "--debater", default="minimax", help="honest debater: minimax (exact), mcts, mctsN, greedy, random"
    )
    ev.add_argument("--liar", default=None, help="the liar's debater (default: the same)")
    ev.add_argument(
        "--images", type=_positive_int, default=None, help="first N images of the split (default all)"
    )
    ev.add_argument(
        "--judge", type=Path, default=None, help="a judge file (default: the shipped digits judge)"
    )
    ev.add_argument(
        "--dataset", type=_dataset, default="digits", help="'digits' or a folder of MNIST IDX files"
    )
    ev.add_argument("--split", choices=("test", "train", "all"), default="test", help="images (default test)")
    ev.add_argument(
        "--pixels", choices=("nonzero", "all"), default="nonzero", help="pixel pool (default nonzero)"
    )
    ev.add_argument("--no-precommit", action="store_true", help="the liar claims no label")
    ev.add_argument("--workers", type=_positive_int, default=1, help="processes (default 1)")
    ev.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    ev.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON")
    ev.set_defaults(handler=_readable(run_eval))
