"""Language-model backends: where an LLM agent's replies come from.

A backend has ``mode`` (``"chat"``: it takes a list of messages; ``"completion"``: one raw prompt) and
``generate(prompt, n=1, seed=None) -> list[Generation]``. :class:`OpenAIBackend` talks to any
OpenAI-compatible server (vLLM, llama.cpp's server, Ollama, hosted APIs) through the official
``openai`` client (``pip install 'redqueen[llm]'``).

Failures: connection errors, timeouts, HTTP 429 and 5xx are retried with exponential backoff
(``backoff * 2**k`` seconds, at most ``max_backoff``); after ``max_retries`` retries, or at once for a
request the server refuses (HTTP 4xx such as a prompt longer than the context), :class:`AgentError`
is raised naming the server, the model and the last error. A reply cut off at ``max_tokens`` is kept
(it may still hold an answer) and counted in ``stats.truncated``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from redqueen.agents.base import AgentError

Mode = Literal["chat", "completion"]


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None


@dataclass
class BackendStats:
    """What a backend spent: requests, retries, failures, tokens and seconds (thread-safe updates)."""

    requests: int = 0
    retries: int = 0
    failures: int = 0
    truncated: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **values: float) -> None:
        with self._lock:
            for key, value in values.items():
                setattr(self, key, getattr(self, key) + value)

    def to_dict(self) -> dict[str, float]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if not k.startswith("_")}
        out["tokens_per_s"] = self.completion_tokens / self.seconds if self.seconds > 0 else 0.0
        out["mean_latency_s"] = self.seconds / self.requests if self.requests else 0.0
        return out


class OpenAIBackend:
    """An OpenAI-compatible server.

    Args:
        model: the model name the server knows.
        base_url: e.g. ``"http://127.0.0.1:8000/v1"``; default ``OPENAI_BASE_URL`` or OpenAI's API.
        api_key: default ``OPENAI_API_KEY``, else ``"EMPTY"`` (local servers accept anything).
        mode: ``"chat"`` (chat completions) or ``"completion"`` (plain completions, for base models).
        max_tokens, temperature, top_p, stop: sampling settings of every request.
        timeout: seconds per request; max_retries, backoff, max_backoff: see the module docstring.
        client: an ``openai.OpenAI`` client to use instead of making one (tests, custom transports).
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        mode: Mode = "chat",
        max_tokens: int = 256,
        temperature: float = 0.7,
        top_p: float | None = None,
        stop: Sequence[str] | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if mode not in ("chat", "completion"):
            raise ValueError(f"mode must be 'chat' or 'completion', got {mode!r}")
        if not model:
            raise ValueError("an OpenAI-compatible backend needs a model name")
        if max_retries < 0 or timeout <= 0 or max_tokens < 1:
            raise ValueError("need max_retries >= 0, timeout > 0 and max_tokens >= 1")
        self.model = model
        self.mode: Mode = mode
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.max_tokens, self.temperature, self.top_p = max_tokens, temperature, top_p
        self.stop = list(stop) if stop else None
        self.timeout, self.max_retries = timeout, max_retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self._sleep = sleep
        self.stats = BackendStats()
        if client is None:
            try:
                import openai
            except ImportError:
                raise ImportError(
                    "the 'openai' backend needs the openai client: pip install 'redqueen[llm]'"
                ) from None
            client = openai.OpenAI(
                base_url=self.base_url,
                api_key=api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
                timeout=timeout,
                max_retries=0,  # retries are ours: counted, with our backoff, ending in AgentError
            )
        self.client = client

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r}, mode={self.mode!r})"

    @property
    def supports_images(self) -> bool:
        """Chat mode sends pictures as ``image_url`` content parts (the server needs a vision model)."""
        return self.mode == "chat"

    def _request(self, prompt: str | list[dict[str, str]], n: int, seed: int | None) -> Any:
        options: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "n": n,
        }
        if self.top_p is not None:
            options["top_p"] = self.top_p
        if self.stop:
            options["stop"] = self.stop
        if seed is not None:
            options["seed"] = int(seed % 2**31)
        if self.mode == "chat":
            if not isinstance(prompt, list):
                raise TypeError("a chat backend takes a list of messages")
            return self.client.chat.completions.create(messages=prompt, **options)
        if not isinstance(prompt, str):
            raise TypeError("a completion backend takes one prompt string")
        return self.client.completions.create(prompt=prompt, **options)

    @staticmethod
    def _retryable(err: Exception) -> bool:
        import openai

        if isinstance(err, openai.APIConnectionError | openai.APITimeoutError | openai.RateLimitError):
            return True
        return isinstance(err, openai.APIStatusError) and err.status_code >= 500

    def generate(
        self, prompt: str | list[dict[str, str]], *, n: int = 1, seed: int | None = None
    ) -> list[Generation]:
        """``n`` replies to ``prompt`` (messages in chat mode, text in completion mode). A server that
        answers fewer choices than asked (llama.cpp's server ignores ``n``) is asked again, with the
        seed moved on, until there are ``n``."""
        out = self._generate(prompt, n, seed)
        while len(out) < n:
            more_seed = None if seed is None else seed + len(out)
            out += self._generate(prompt, n - len(out), more_seed)
        return out[:n]

    def _generate(self, prompt: str | list[dict[str, str]], n: int, seed: int | None) -> list[Generation]:
        import openai

        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                response = self._request(prompt, n, seed)
            except openai.OpenAIError as err:
                self.stats.add(seconds=time.perf_counter() - started)
                retry = self._retryable(err) and attempt < self.max_retries
                if not retry:
                    self.stats.add(failures=1)
                    what = f"failed after {attempt + 1} attempts" if self._retryable(err) else "refused"
                    raise AgentError(
                        f"model {self.model!r} at {self.base_url}: request {what}: "
                        f"{type(err).__name__}: {err}"
                    ) from err
                self.stats.add(retries=1)
                self._sleep(min(self.max_backoff, self.backoff * 2**attempt))
                attempt += 1
                continue
            elapsed = time.perf_counter() - started
            return self._read(response, elapsed)

    def _read(self, response: Any, elapsed: float) -> list[Generation]:
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        out = []
        for choice in response.choices:
            text = choice.message.content if self.mode == "chat" else choice.text
            out.append(Generation(text or "", prompt_tokens, completion_tokens, choice.finish_reason))
        if not out:
            raise AgentError(f"model {self.model!r} at {self.base_url} answered with no choices")
        truncated = sum(g.finish_reason == "length" for g in out)
        self.stats.add(
            requests=1,
            truncated=truncated,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            seconds=elapsed,
        )
        return out
