"""A tiny causal language model and a character-level tokenizer, built on the spot (nothing is
downloaded).

:func:`char_tokenizer` makes a ``transformers`` fast tokenizer with one token per printable ASCII
character plus ``<pad>``, ``<eos>`` and ``<unk>``, built with the ``tokenizers`` library that
transformers ships. :func:`build_tiny_model` writes a randomly initialised GPT-2 model (two layers of
width 64 by default, about 110k parameters) and that tokenizer into a folder, which
:meth:`~redqueen.trainers.llm_selfplay.policy.Policy.load` (and ``llm:hf:FOLDER``) read like any
local model. The self-play trainer learns Kuhn poker with such a model in minutes on a CPU.
"""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any

PAD, EOS, UNK = "<pad>", "<eos>", "<unk>"
# every printable ASCII character but the vertical whitespace that prompts never hold
CHARACTERS = tuple(c for c in string.printable if c not in "\r\x0b\x0c")


def char_tokenizer(characters: str | tuple[str, ...] = CHARACTERS) -> Any:
    """A ``PreTrainedTokenizerFast`` with one token per character (ids 0-2: pad, eos, unk), padding on
    the left as batched generation with a decoder-only model needs."""
    import transformers
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    vocab = {PAD: 0, EOS: 1, UNK: 2}
    for char in characters:
        if len(char) != 1:
            raise ValueError(f"a character tokenizer takes single characters, got {char!r}")
        vocab.setdefault(char, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), "isolated")
    tok.decoder = decoders.Fuse()
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token=PAD, eos_token=EOS, unk_token=UNK, padding_side="left"
    )


def tiny_config(vocab_size: int, **overrides: Any) -> Any:
    """The ``GPT2Config`` of the tiny model: no dropout (so training and sampling agree exactly), ids of
    the character tokenizer for pad and eos. ``overrides`` (``n_layer``, ``n_embd``, ``n_head``,
    ``n_positions``) change the size."""
    import transformers

    allowed = {"n_layer", "n_embd", "n_head", "n_positions"}
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ValueError(f"unknown tiny-model settings {unknown}; use {sorted(allowed)}")
    settings: dict[str, Any] = {"n_layer": 2, "n_embd": 64, "n_head": 4, "n_positions": 64, **overrides}
    for key, value in settings.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"tiny-model setting {key} must be a positive integer, got {value!r}")
    if settings["n_embd"] % settings["n_head"]:
        raise ValueError(f"n_embd ({settings['n_embd']}) must be a multiple of n_head ({settings['n_head']})")
    return transformers.GPT2Config(
        vocab_size=vocab_size,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
        **settings,
    )


def build_tiny_model(
    folder: str | os.PathLike[str], *, seed: int = 0, overwrite: bool = False, **sizes: Any
) -> Path:
    """Write a fresh tiny GPT-2 (weights drawn from ``seed``) and the character tokenizer into
    ``folder``; returns the folder. An existing model there is kept unless ``overwrite``."""
    import torch
    import transformers

    path = Path(folder)
    if (path / "config.json").exists() and not overwrite:
        return path
    tokenizer = char_tokenizer()
    config = tiny_config(len(tokenizer), **sizes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = transformers.GPT2LMHeadModel(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
