"""A local Hugging Face transformers model as an LLM backend (``pip install transformers``).

``HFBackend("path/to/model")`` loads the tokenizer and causal LM from a local folder with
``local_files_only=True``: nothing is ever downloaded. ``mode="chat"`` formats messages with the
tokenizer's chat template (the folder must have one); ``mode="completion"`` sends raw text. Sampling
is seeded per request in a forked torch generator, so the same seed gives the same reply and the
caller's torch random state is left alone.

:meth:`HFBackend.score` gives the log-probability of continuations after a prompt, which
:class:`~redqueen.agents.llm.LLMAgent` uses (``probabilities="logprob"``) to score every legal move
of a discrete game exactly instead of by sampling.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any, Literal

from redqueen.agents.base import AgentError
from redqueen.agents.llm.backends import BackendStats, Generation


class HFBackend:
    """A transformers causal LM from a local folder (or a model and tokenizer given directly)."""

    def __init__(
        self,
        model: str | os.PathLike[str] | Any,
        tokenizer: Any = None,
        *,
        mode: Literal["chat", "completion"] = "completion",
        max_new_tokens: int = 64,
        temperature: float = 0.7,
        top_p: float | None = None,
        max_context: int | None = None,
        device: str = "cpu",
    ):
        try:
            import torch  # noqa: F401
            import transformers
        except ImportError:
            raise ImportError("the 'hf' backend needs transformers: pip install transformers") from None
        if mode not in ("chat", "completion"):
            raise ValueError(f"mode must be 'chat' or 'completion', got {mode!r}")
        if isinstance(model, str | os.PathLike):
            path = os.fspath(model)
            if not os.path.isdir(path):
                raise FileNotFoundError(f"no local model folder at {path!r} (the hf backend never downloads)")
            tokenizer = tokenizer or transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = transformers.AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
            self.name = os.path.basename(os.path.normpath(path))
        else:
            if tokenizer is None:
                raise ValueError("give the tokenizer with a model object")
            self.name = type(model).__name__
        if mode == "chat" and not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                f"{self.name}: mode 'chat' needs a tokenizer with a chat template; use 'completion'"
            )
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.mode = mode
        self.device = device
        self.max_new_tokens, self.temperature, self.top_p = max_new_tokens, temperature, top_p
        limit = max_context or getattr(model.config, "max_position_embeddings", None) or 2048
        self.max_context = int(limit)
        self.stats = BackendStats()

    def __repr__(self) -> str:
        return f"HFBackend({self.name!r}, mode={self.mode!r})"

    def _text(self, prompt: str | list[dict[str, str]]) -> str:
        if self.mode == "chat":
            if not isinstance(prompt, list):
                raise TypeError("a chat backend takes a list of messages")
            return self.tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        if not isinstance(prompt, str):
            raise TypeError("a completion backend takes one prompt string")
        return prompt

    def _encode(self, text: str) -> Any:
        ids = self.tokenizer(text, return_tensors="pt")["input_ids"].to(self.device)
        room = self.max_context - self.max_new_tokens
        if ids.shape[1] > room:
            if room < 1:
                raise AgentError(
                    f"{self.name}: max_new_tokens {self.max_new_tokens} leaves no room in the context"
                )
            ids = ids[:, -room:]  # keep the end of the prompt: the current position and the question
        return ids

    def generate(
        self, prompt: str | list[dict[str, str]], *, n: int = 1, seed: int | None = None
    ) -> list[Generation]:
        import torch

        ids = self._encode(self._text(prompt))
        sample = self.temperature > 0
        options: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": sample,
            "num_return_sequences": n,
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id or 0,
        }
        if sample:
            options["temperature"] = self.temperature
            if self.top_p is not None:
                options["top_p"] = self.top_p
        started = time.perf_counter()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            if seed is not None:
                torch.manual_seed(int(seed))
            try:
                out = self.model.generate(ids, attention_mask=torch.ones_like(ids), **options)
            except (RuntimeError, ValueError) as err:
                self.stats.add(failures=1)
                raise AgentError(f"{self.name}: generation failed: {err}") from err
        new = out[:, ids.shape[1] :]
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        eos = self.tokenizer.eos_token_id
        gens = []
        for row, text in zip(new, texts, strict=True):
            finished = eos is not None and bool((row == eos).any())
            gens.append(
                Generation(text, int(ids.shape[1]), int(row.shape[0]), "stop" if finished else "length")
            )
        self.stats.add(
            requests=1,
            truncated=sum(g.finish_reason == "length" for g in gens),
            prompt_tokens=int(ids.shape[1]),
            completion_tokens=int(new.numel()),
            seconds=time.perf_counter() - started,
        )
        return gens

    def score(self, prompt: str | list[dict[str, str]], continuations: Sequence[str]) -> list[float]:
        """log P(continuation | prompt) for each continuation (summed over its tokens)."""
        import torch

        prefix = self._encode(self._text(prompt))
        scores = []
        with torch.no_grad():
            for text in continuations:
                tail = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"].to(
                    self.device
                )
                if tail.shape[1] == 0:
                    raise ValueError(f"continuation {text!r} has no tokens")
                ids = torch.cat([prefix, tail], dim=1)[:, -self.max_context :]
                logits = self.model(ids).logits[0, :-1].float()
                logp = torch.log_softmax(logits, dim=-1)
                targets = ids[0, 1:]
                picked = logp[torch.arange(targets.shape[0]), targets]
                scores.append(float(picked[-tail.shape[1] :].sum()))
        return scores
