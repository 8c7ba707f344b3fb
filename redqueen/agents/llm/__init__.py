"""Language models as redqueen players.

``LLMAgent(backend, template=PromptTemplate())`` is a text-view :class:`~redqueen.agents.Agent`: it
turns each observation into a prompt (:mod:`redqueen.agents.llm.prompts`), asks its backend
(:mod:`redqueen.agents.llm.backends`) for a reply and returns the reply as it is. The match runner,
the text env and the league read the move out of it (the last ``\\boxed{}`` or ``[...]``, then the
game's ``parse_action``) and apply their invalid-answer policy. Every prompt and raw reply of the
current game is in :attr:`LLMAgent.turns`; the backend's ``stats`` count requests, retries, tokens
and seconds.

:meth:`LLMAgent.action_probabilities` samples ``samples`` replies to the same prompt and returns how
often each legal move was chosen, so ``redqueen.evaluation.exploitability(agent, "kuhn_poker")``
scores a language model's poker strategy exactly (up to the sampling error).

In a league config or on the command line, ``"llm:openai:MODEL@URL"`` (a server),
``"llm:llamacpp:FILE.gguf"`` (llama.cpp in process) or ``"llm:hf:FOLDER"`` (transformers in process),
or a table ``{type = "llm", backend = "openai", model = ..., base_url = ..., mode = "chat"}`` makes one
(see :func:`from_spec`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from redqueen.agents.base import Agent, AgentError
from redqueen.agents.llm.backends import BackendStats, Generation, OpenAIBackend
from redqueen.agents.llm.prompts import DIRECT, PromptTemplate, has_images, with_image_parts
from redqueen.game import extract_answer, normalize_move

__all__ = [
    "TEMPLATES",
    "AgentError",
    "BackendStats",
    "Generation",
    "LLMAgent",
    "OpenAIBackend",
    "PromptTemplate",
    "from_spec",
    "parse_llm_spec",
]

_SEED_HIGH = 2**31 - 1

TEMPLATES = {"spiral": PromptTemplate(), "direct": DIRECT}
"""Named templates for specs (``template = "direct"``): SPIRAL's reasoning prompt, or a prefilled
``\\boxed{`` answer for small base models."""


class LLMAgent(Agent):
    """A language model playing through the text view (see the module docstring).

    Args:
        backend: an :class:`OpenAIBackend` or any object with ``mode`` and ``generate``.
        template: how observations become prompts (default: SPIRAL-style, ``\\boxed{}`` answers).
        samples: replies sampled per information state by :meth:`action_probabilities`.
        probabilities: how :meth:`action_probabilities` is measured: ``"sample"`` (``samples``
            replies, counted), ``"logprob"`` (the model's probability of answering each legal move
            directly, ``\\boxed{move}``, from the backend's ``score``), or ``"auto"`` (logprob where
            the backend can score, else sample).
    """

    name = "llm"
    view = "text"

    def __init__(
        self,
        backend: Any,
        template: PromptTemplate | None = None,
        name: str | None = None,
        seed: int | None = None,
        samples: int = 16,
        probabilities: str = "auto",
    ):
        super().__init__(name, seed)
        if probabilities not in ("auto", "sample", "logprob"):
            raise ValueError(f"probabilities must be 'auto', 'sample' or 'logprob', got {probabilities!r}")
        if probabilities == "logprob" and not callable(getattr(backend, "score", None)):
            raise ValueError(
                f"probabilities='logprob' needs a backend that scores text; {backend!r} does not"
            )
        if getattr(backend, "mode", None) not in ("chat", "completion") or not callable(
            getattr(backend, "generate", None)
        ):
            raise TypeError(f"backend must have mode 'chat' or 'completion' and generate(); got {backend!r}")
        if samples < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        self.backend = backend
        self.template = template or PromptTemplate()
        self.samples = int(samples)
        if probabilities == "auto":
            probabilities = "logprob" if callable(getattr(backend, "score", None)) else "sample"
        self.probabilities = probabilities
        self.unparsed_states = 0
        self.turns: list[dict[str, Any]] = []

    @property
    def stats(self) -> BackendStats | None:
        return getattr(self.backend, "stats", None)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.turns = []

    def fork(self) -> LLMAgent:
        """A copy sharing the backend (its client and stats), with its own game state."""
        twin: LLMAgent = self.shallow_fork()  # type: ignore[assignment]
        twin.turns = []
        return twin

    def prompt(self, observation: Mapping[str, Any]) -> str | list[dict[str, Any]]:
        """The backend's prompt for ``observation``: chat messages or one completion text.

        Pictures in the text view (Markdown data-URI images, as Who-Is-the-Spy's picture games write
        them) are sent as image parts of the chat messages to a backend with ``supports_images``
        (:class:`OpenAIBackend` in chat mode: the server must run a vision model); any other backend
        raises :class:`AgentError` rather than sending the picture as text."""
        history = [(t["user"], t["reply"]) for t in self.turns]
        if self.backend.mode == "chat":
            messages = self.template.messages(observation, history)
            if not any(has_images(m["content"]) for m in messages):
                return messages
            if not getattr(self.backend, "supports_images", False):
                raise AgentError(
                    f"the prompt holds a picture, which {self.backend!r} cannot send; use an OpenAIBackend "
                    "in chat mode with a vision model (or a text view without pictures)"
                )
            return with_image_parts(messages)
        prompt = self.template.completion(observation, history)
        if has_images(prompt):
            raise AgentError(
                f"the prompt holds a picture, which completion mode cannot send ({self.backend!r}); use "
                "mode='chat' with a vision model (or a text view without pictures)"
            )
        return prompt

    def act(self, observation: Mapping[str, Any]) -> str:
        prompt = self.prompt(observation)
        reply = self.backend.generate(prompt, n=1, seed=int(self.rng.integers(_SEED_HIGH)))[0]
        answer = self._answer(reply.text)
        self.turns.append(
            {
                "user": self.template.user_text(observation),
                "prompt": prompt,
                "reply": answer,
                "finish_reason": reply.finish_reason,
            }
        )
        return answer

    def _answer(self, text: str) -> str:
        """The reply as the game reads it: with a completion-mode ``answer_prefix``, prefix + text."""
        if self.backend.mode == "completion" and self.template.answer_prefix:
            return self.template.answer_prefix + text
        return text

    def action_probabilities(self, observation: Mapping[str, Any]) -> dict[str, float]:
        """How often each legal move is the answer among ``samples`` sampled replies, keyed by the
        legal move's text. Replies naming no legal move are left out; if none names one, the
        distribution is uniform (and :attr:`unparsed_states` counts it)."""
        moves = list(observation["legal_moves"])
        if self.probabilities == "logprob":
            if self.backend.mode == "completion" and self.template.answer_prefix:
                prefix = self.template.answer_prefix  # the prompt already ends with it
                answers = [_continuation(prefix, m.strip("[]")) for m in moves]
            else:
                answers = [" \\boxed{" + m.strip("[]") + "}" for m in moves]
            logp = np.asarray(self.backend.score(self.prompt(observation), answers), dtype=np.float64)
            p = np.exp(logp - logp.max())
            return {m: float(x) for m, x in zip(moves, p / p.sum(), strict=True)}
        wanted = {normalize_move(m.strip("[]")): m for m in moves}
        counts = dict.fromkeys(moves, 0)
        replies = self.backend.generate(
            self.prompt(observation), n=self.samples, seed=int(self.rng.integers(_SEED_HIGH))
        )
        for reply in replies:
            move = wanted.get(normalize_move(extract_answer(self._answer(reply.text))))
            if move is not None:
                counts[move] += 1
        total = sum(counts.values())
        if total == 0:
            self.unparsed_states += 1
            return {m: 1.0 / len(moves) for m in moves}
        return {m: c / total for m, c in counts.items() if c}

    def __repr__(self) -> str:
        return f"LLMAgent(name={self.name!r}, backend={self.backend!r})"


def _continuation(prefix: str, move: str) -> str:
    """What a model continues ``prefix`` with to answer ``move``: ``"bet}"`` after ``"\\boxed{"``."""
    return f"{move}}}" if prefix.rstrip().endswith("\\boxed{") else move


def parse_llm_spec(text: str) -> dict[str, Any]:
    """``"openai:MODEL@URL"`` (or ``"openai:MODEL"``, ``"MODEL@URL"``), ``"llamacpp:FILE.gguf"`` or
    ``"hf:FOLDER"`` as a spec dict."""
    backend, sep, rest = text.partition(":")
    if backend in ("hf", "llamacpp") and sep:
        if not rest:
            what = "model folder" if backend == "hf" else "GGUF file"
            raise ValueError(f"LLM spec {text!r} names no {what}; use '{backend}:/path/to/model'")
        return {"backend": backend, "path": rest}
    if not sep or backend not in ("openai",):
        backend, rest = "openai", text
    model, _, url = rest.partition("@")
    if not model:
        raise ValueError(f"LLM spec {text!r} names no model; use 'openai:MODEL@http://host:port/v1'")
    spec: dict[str, Any] = {"backend": backend, "model": model}
    if url:
        spec["base_url"] = url
    return spec


_BACKEND_KEYS = {
    "model", "base_url", "api_key", "mode", "max_tokens", "temperature", "top_p", "stop", "timeout",
    "max_retries", "backoff", "max_backoff",
}  # fmt: skip


def from_spec(
    params: Mapping[str, Any], *, game: Any = None, seed: int | None = None, name: str = "llm"
) -> LLMAgent:
    """An :class:`LLMAgent` from a league spec's parameters: ``backend`` (``"openai"``, ``"llamacpp"``
    or ``"hf"``), the backend's settings (``model``, ``base_url``, ``path``, ``mode``, ``max_tokens``,
    ``temperature``...), ``samples``, ``probabilities``, ``template`` (``"spiral"`` or ``"direct"``,
    see :data:`TEMPLATES`) and the template's ``system``/``user``/``answer_prefix`` texts.
    A ``model`` of the form ``"openai:MODEL@URL"`` or ``"llamacpp:FILE"`` is read by
    :func:`parse_llm_spec`."""
    params = dict(params)
    if "model" in params and (
        "@" in str(params["model"]) or str(params["model"]).startswith(("openai:", "hf:", "llamacpp:"))
    ):
        params = {**params, **parse_llm_spec(str(params.pop("model")))}
    backend_name = params.pop("backend", "openai")
    if backend_name not in ("openai", "hf", "llamacpp"):
        raise ValueError(
            f"unknown LLM backend {backend_name!r}; this version has 'openai', 'llamacpp' and 'hf'"
        )
    style = params.pop("template", "spiral")
    if style not in TEMPLATES:
        raise ValueError(f"unknown template {style!r}; known: {sorted(TEMPLATES)}")
    keys = ("system", "user", "completion_suffix", "answer_prefix")
    template_keys = {k: params.pop(k) for k in keys if k in params}
    if "history" in params:
        template_keys["history"] = bool(params.pop("history"))
    samples = int(params.pop("samples", 16))
    probabilities = str(params.pop("probabilities", "auto"))
    if backend_name == "hf":
        from redqueen.agents.llm.hf import HFBackend

        path = params.pop("path", params.pop("model", None))
        if path is None:
            raise ValueError("an 'hf' LLM spec needs the model folder as 'path'")
        backend: Any = HFBackend(path, **params)
    elif backend_name == "llamacpp":
        from redqueen.agents.llm.llamacpp import LlamaCppBackend

        path = params.pop("path", params.pop("model", None))
        if path is None:
            raise ValueError("a 'llamacpp' LLM spec needs the GGUF file as 'path'")
        backend = LlamaCppBackend(path, **params)
    else:
        unknown = sorted(set(params) - _BACKEND_KEYS)
        if unknown:
            raise ValueError(f"unknown LLM settings {unknown}; known: {sorted(_BACKEND_KEYS | {'samples'})}")
        backend = OpenAIBackend(**params)
    return LLMAgent(
        backend,
        dataclasses.replace(TEMPLATES[style], **template_keys),
        name=name,
        seed=seed,
        samples=samples,
        probabilities=probabilities,
    )
