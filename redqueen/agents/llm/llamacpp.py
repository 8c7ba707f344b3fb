"""A GGUF model in process through llama-cpp-python (``pip install 'redqueen[llm]'``).

``LlamaCppBackend("model.gguf")`` loads the model with ``llama_cpp.Llama`` on the CPU (or offloads
``n_gpu_layers`` layers where llama.cpp was built with a GPU backend). ``mode="completion"`` (the
default: small GGUF models such as Gemma 3 270M are often base models) sends raw text;
``mode="chat"`` formats messages with the chat template stored in the GGUF file.

Sampling is seeded per request, so the same seed gives the same reply. A llama.cpp context is not
thread-safe: every call holds the backend's lock, and agents forked for concurrent games share it
(in-process requests run one at a time; use a server and the ``openai`` backend for parallel ones).

Context length: in completion mode a prompt longer than ``n_ctx - max_tokens`` tokens keeps its end
(the current position and the question) and is counted in ``stats.truncated_prompts``; in chat mode
such a prompt raises :class:`~redqueen.agents.AgentError`, as a server would refuse it.

:meth:`LlamaCppBackend.score` gives the exact log-probability of continuations after a prompt
(evaluating the prompt once and each continuation token by token from its cached state), which
:class:`~redqueen.agents.llm.LLMAgent` uses for ``probabilities="logprob"``: an exact
exploitability of the model's Kuhn poker strategy.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from redqueen.agents.base import AgentError
from redqueen.agents.llm.backends import BackendStats, Generation

_SEED_HIGH = 2**31 - 1


class LlamaCppBackend:
    """A GGUF model run in this process by llama-cpp-python.

    Args:
        model_path: the ``.gguf`` file, or ``"gemma3-270m"`` for the packaged Gemma 3 270M
            (:func:`redqueen.agents.llm.models.gemma3_270m`).
        mode: ``"completion"`` (raw text) or ``"chat"`` (the GGUF's chat template).
        max_tokens, temperature, top_p, top_k, stop: sampling settings of every request.
        n_ctx: context length in tokens; n_threads: CPU threads (default: llama.cpp's choice);
        n_gpu_layers: layers offloaded to a GPU (0: CPU only).
        reuse_prefix: keep the evaluated prompt between requests and evaluate only what is new (faster
            when prompts share a long beginning). Off by default: the logits of a prompt evaluated
            in other batches differ in the last bits, so a reply would depend on the requests
            before it and the same seed would not always give the same reply.
        llama: an already loaded ``llama_cpp.Llama`` to use instead of loading ``model_path``.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        mode: Literal["chat", "completion"] = "completion",
        max_tokens: int = 64,
        temperature: float = 0.7,
        top_p: float = 0.95,
        top_k: int = 40,
        stop: Sequence[str] | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        reuse_prefix: bool = False,
        llama: Any = None,
    ):
        if mode not in ("chat", "completion"):
            raise ValueError(f"mode must be 'chat' or 'completion', got {mode!r}")
        if max_tokens < 1 or n_ctx <= max_tokens:
            raise ValueError(f"need max_tokens >= 1 and n_ctx > max_tokens, got {max_tokens} and {n_ctx}")
        if llama is None:
            if model_path is None:
                raise ValueError("give the GGUF file as model_path (or a loaded llama_cpp.Llama as llama)")
            from redqueen.agents.llm.models import resolve_model_path

            path = resolve_model_path(model_path)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"no GGUF model file at {path!r}")
            try:
                import llama_cpp
            except ImportError:
                raise ImportError(
                    "the 'llamacpp' backend needs llama-cpp-python: pip install 'redqueen[llm]'"
                ) from None
            try:
                llama = llama_cpp.Llama(
                    model_path=path,
                    n_ctx=n_ctx,
                    n_threads=n_threads,
                    n_gpu_layers=n_gpu_layers,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as err:
                raise ValueError(f"llama.cpp cannot load {path!r}: {err}") from err
            self.name = os.path.basename(path)
        else:
            self.name = os.path.basename(str(getattr(llama, "model_path", "llama")))
        self.llama = llama
        self.mode = mode
        self.max_tokens, self.temperature, self.top_p, self.top_k = max_tokens, temperature, top_p, top_k
        self.stop = list(stop) if stop else []
        self.reuse_prefix = bool(reuse_prefix)
        self.n_ctx = int(llama.n_ctx())
        self.stats = BackendStats()
        self.truncated_prompts = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LlamaCppBackend({self.name!r}, mode={self.mode!r})"

    def _tokens(self, text: str) -> list[int]:
        return list(self.llama.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def _options(self, seed: int) -> dict[str, Any]:
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "stop": self.stop,
            "seed": seed,
        }

    def _one(self, prompt: str | list[dict[str, str]], seed: int) -> dict[str, Any]:
        if self.mode == "chat":
            if not isinstance(prompt, list):
                raise TypeError("a chat backend takes a list of messages")
            return self.llama.create_chat_completion(messages=prompt, **self._options(seed))
        if not isinstance(prompt, str):
            raise TypeError("a completion backend takes one prompt string")
        tokens = self._tokens(prompt)
        room = self.n_ctx - self.max_tokens
        if len(tokens) > room:
            tokens = tokens[-room:]
            self.truncated_prompts += 1
        return self.llama.create_completion(tokens, **self._options(seed))

    def generate(
        self, prompt: str | list[dict[str, str]], *, n: int = 1, seed: int | None = None
    ) -> list[Generation]:
        """``n`` replies to ``prompt``; reply ``j`` is sampled with seed ``seed + j``."""
        base = int(np.random.default_rng().integers(_SEED_HIGH)) if seed is None else int(seed)
        out = []
        for j in range(n):
            started = time.perf_counter()
            with self._lock:
                try:
                    if not self.reuse_prefix:
                        self.llama.reset()
                    response = self._one(prompt, (base + j) % _SEED_HIGH)
                except (ValueError, RuntimeError) as err:  # e.g. a chat prompt longer than the context
                    self.stats.add(failures=1, seconds=time.perf_counter() - started)
                    raise AgentError(f"llama.cpp model {self.name}: request refused: {err}") from err
            choice = response["choices"][0]
            text = choice["message"]["content"] if self.mode == "chat" else choice["text"]
            usage = response.get("usage") or {}
            gen = Generation(
                text or "",
                int(usage.get("prompt_tokens", 0)),
                int(usage.get("completion_tokens", 0)),
                choice.get("finish_reason"),
            )
            self.stats.add(
                requests=1,
                truncated=int(gen.finish_reason == "length"),
                prompt_tokens=gen.prompt_tokens,
                completion_tokens=gen.completion_tokens,
                seconds=time.perf_counter() - started,
            )
            out.append(gen)
        return out

    def _prompt_text(self, prompt: str | list[dict[str, str]]) -> str:
        if self.mode == "completion":
            if not isinstance(prompt, str):
                raise TypeError("a completion backend takes one prompt string")
            return prompt
        if not isinstance(prompt, list):
            raise TypeError("a chat backend takes a list of messages")
        template = self.llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ValueError(f"{self.name} has no chat template; score it in 'completion' mode")
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        bos = self.llama.detokenize([self.llama.token_bos()], special=True).decode("utf-8", "replace")
        eos = self.llama.detokenize([self.llama.token_eos()], special=True).decode("utf-8", "replace")
        formatter = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos, add_generation_prompt=True)
        text = formatter(messages=prompt).prompt
        return text[len(bos) :] if bos and text.startswith(bos) else text  # tokenize() adds the BOS

    def _logits(self) -> np.ndarray:
        import llama_cpp

        n_vocab = int(self.llama.n_vocab())
        row = np.ctypeslib.as_array(llama_cpp.llama_get_logits(self.llama.ctx), shape=(n_vocab,))
        return np.array(row, dtype=np.float64)

    @staticmethod
    def _log_softmax(logits: np.ndarray) -> np.ndarray:
        top = logits.max()
        return logits - top - np.log(np.exp(logits - top).sum())

    def score(self, prompt: str | list[dict[str, str]], continuations: Sequence[str]) -> list[float]:
        """log P(continuation | prompt) for each continuation (summed over its tokens)."""
        prefix = self._tokens(self._prompt_text(prompt))
        tails = []
        for text in continuations:
            tail = list(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))
            if not tail:
                raise ValueError(f"continuation {text!r} has no tokens")
            tails.append(tail)
        longest = max(len(t) for t in tails)
        if len(prefix) + longest > self.n_ctx:
            prefix = prefix[-(self.n_ctx - longest) :]
            self.truncated_prompts += 1
        started = time.perf_counter()
        scores = []
        with self._lock:
            self.llama.reset()
            self.llama.eval(prefix)
            after_prefix = self._log_softmax(self._logits())
            for tail in tails:
                total, logp = 0.0, after_prefix
                for i, token in enumerate(tail):
                    total += float(logp[token])
                    if i + 1 < len(tail):
                        self.llama.eval([token])
                        logp = self._log_softmax(self._logits())
                scores.append(total)
                self.llama.n_tokens = len(prefix)  # back to the prompt's cached state
            self.llama.reset()  # the next generation re-evaluates its prompt from a clean state
        self.stats.add(prompt_tokens=len(prefix), seconds=time.perf_counter() - started)
        return scores


class LlamaCppServer:
    """llama-cpp-python's OpenAI-compatible server for a GGUF file, as a child process on 127.0.0.1.

    ``with LlamaCppServer("gemma3-270m") as server: OpenAIBackend("m", server.url, ...)``. The server
    starts on a free port (or ``port``); its log goes to a temporary file (a pipe would fill and stall
    it), and its tail is in the error when it fails to start within ``timeout`` seconds.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        threads: int = 2,
        n_ctx: int = 2048,
        port: int | None = None,
        timeout: float = 180.0,
    ):
        import socket
        import subprocess
        import sys
        import tempfile
        import urllib.request

        from redqueen.agents.llm.models import resolve_model_path

        path = resolve_model_path(model_path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no GGUF model file at {path!r}")
        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{port}/v1"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", path, "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads),
        ]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the llama.cpp server exited at start: {self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    tail = self._log_tail()
                    self.close()
                    raise RuntimeError(
                        f"the llama.cpp server did not answer within {timeout} s: {tail}"
                    ) from None
                time.sleep(0.2)

    def _log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-2000:]

    def kill(self) -> None:
        """Stop the server at once (SIGKILL), as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

    def close(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 20 s) and drop its log."""
        import subprocess

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if not self.log.closed:
            self.log.close()

    def __enter__(self) -> LlamaCppServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
