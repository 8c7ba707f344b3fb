"""Debate games: the pixel debate of "AI safety via debate" and a text debate with a pluggable judge.

* :mod:`redqueen.envs.debate.game`: :class:`PixelDebate` (``redqueen/Debate-v0``,
  :mod:`redqueen.envs.debate_v0`), two debaters revealing pixels to a sparse-pixel judge;
* :mod:`redqueen.envs.debate.judge`: the judge (a torch classifier trained on random ``k``-pixel
  masks), its training, files and the shipped default judges;
* :mod:`redqueen.envs.debate.data`: scikit-learn's 8x8 digits and MNIST from IDX files;
* :mod:`redqueen.envs.debate.solver` and :mod:`redqueen.envs.debate.agents`: exact minimax over pixel
  sets, MCTS (PUCT) and greedy debaters;
* :mod:`redqueen.envs.debate.evaluation`: judge alone vs debate accuracy, per first mover;
* :mod:`redqueen.envs.debate.text_debate`: :class:`TextDebate` (``redqueen/TextDebate-v0``,
  :mod:`redqueen.envs.textdebate_v0`), hidden evidence, verified quotes, any text agent as judge.

Names load on first use (torch and scikit-learn only when a pixel debate is made).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "PixelDebate": "game",
    "PixelDebateState": "game",
    "split_observation": "game",
    "HONEST": "game",
    "LIAR": "game",
    "ImageDataset": "data",
    "load_dataset": "data",
    "read_idx": "data",
    "write_idx": "data",
    "Judge": "judge",
    "MLPJudge": "judge",
    "LinearJudge": "judge",
    "train_judge": "judge",
    "load_judge": "judge",
    "default_judge": "judge",
    "judge_accuracy": "judge",
    "solve": "solver",
    "solve_image": "solver",
    "GreedyDebater": "agents",
    "MinimaxDebater": "agents",
    "MCTSDebater": "agents",
    "make_debater": "agents",
    "DebateReport": "evaluation",
    "evaluate_debate": "evaluation",
    "debate_table": "evaluation",
    "TextDebate": "text_debate",
    "TextDebateState": "text_debate",
    "Question": "text_debate",
    "ScriptedJudge": "text_debate",
    "EvidenceDebater": "text_debate",
    "builtin_questions": "text_debate",
    "load_questions": "text_debate",
    "verify_quotes": "text_debate",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'redqueen.envs.debate' has no attribute {name!r}")
    return getattr(importlib.import_module(f"redqueen.envs.debate.{module}"), name)
