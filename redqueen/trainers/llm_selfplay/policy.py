"""The trained policy: a Hugging Face causal LM (optionally with a LoRA adapter) and the generation
backends it samples replies with.

:class:`Policy` wraps a ``transformers`` model and its tokenizer: :meth:`Policy.load` reads a local
folder (``local_files_only``: nothing is downloaded), a GGUF file that transformers can dequantise
(``gguf_file=``, or the packaged ``"gemma3-270m"``), and adds a LoRA adapter with peft when asked.
It computes the log-probabilities of replies in padded batches (:meth:`Policy.token_logprobs`,
scoring only the reply positions), scores fixed answers (:meth:`Policy.score`), and samples through
a *generator*:

* :class:`HFGenerator` (default, CPU or GPU): ``model.generate`` on left-padded batches, seeded in a
  forked torch generator so the caller's random state is left alone;
* :class:`~redqueen.trainers.llm_selfplay.vllm_backend.VLLMGenerator` (GPU, ``pip install
  'redqueen[vllm]'``): the same interface over a vLLM engine whose weights follow the policy.

Both return :class:`Reply` objects: the text, the generated token ids (``<eos>`` included when the
model ended its reply) and whether it ended by itself.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from redqueen.game import RedqueenError

_CACHE_LIMIT = 200_000  # prompt encodings kept (cleared when full)


class PolicyError(RedqueenError, ValueError):
    """A policy model that cannot be loaded or used as asked (missing folder, package or setting)."""


@dataclass(frozen=True)
class Reply:
    """One sampled reply: its text (special tokens left out), the generated token ids and whether the
    model ended it (``<eos>``) rather than running out of ``max_new_tokens``."""

    text: str
    token_ids: tuple[int, ...]
    finished: bool


class Generator(Protocol):
    """What the trainer samples replies with (see the module docstring)."""

    def generate(
        self,
        policy: Policy,
        prompt_ids: Sequence[Sequence[int]],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
    ) -> list[Reply]: ...

    def sync(self, policy: Policy) -> None:
        """Make the generator sample from the policy's current weights (after an update)."""


@dataclass(frozen=True)
class LoraSettings:
    """A LoRA adapter (peft): rank ``r``, scale ``alpha``, ``dropout`` and the modules it adapts
    (``"all-linear"`` or a list of module names)."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.0
    target_modules: str | tuple[str, ...] = "all-linear"

    @classmethod
    def coerce(cls, value: LoraSettings | Mapping[str, Any] | bool | None) -> LoraSettings | None:
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"r", "alpha", "dropout", "target_modules"})
            if unknown:
                raise PolicyError(f"unknown LoRA settings {unknown}; use r, alpha, dropout, target_modules")
            data = dict(value)
            if isinstance(data.get("target_modules"), list):
                data["target_modules"] = tuple(data["target_modules"])
            return cls(**data)
        raise PolicyError(f"lora must be a table of settings or true/false, got {value!r}")


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        raise PolicyError("the LLM trainer needs torch") from None
    return torch


def _transformers() -> Any:
    try:
        import transformers
    except ImportError:
        raise PolicyError("the LLM trainer needs transformers: pip install 'redqueen[llm-rl]'") from None
    return transformers


def _dtype(name: str) -> Any:
    torch = _torch()
    table = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if name not in table:
        raise PolicyError(f"dtype must be one of {', '.join(table)}, got {name!r}")
    return table[name]


def load_gguf(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """A local folder holding the dequantised model of a GGUF file, made once (transformers reads
    GGUF through the ``gguf`` package; the first load of a 270M model takes about a minute, a reload
    of the folder a few seconds). ``path`` may be ``"gemma3-270m"``, the GGUF that
    ``redqueen[llm]`` ships. Returns the folder."""
    from redqueen.agents.llm.models import resolve_model_path

    file = Path(resolve_model_path(path))
    if not file.is_file():
        raise PolicyError(f"no GGUF file at {str(file)!r}")
    folder = Path(cache_dir) if cache_dir is not None else file.with_suffix(".hf")
    if (folder / "config.json").exists():
        return folder
    transformers = _transformers()
    try:
        import gguf  # noqa: F401
    except ImportError:
        raise PolicyError(
            "reading GGUF files needs the gguf package: pip install 'redqueen[llm-rl]'"
        ) from None
    tokenizer = transformers.AutoTokenizer.from_pretrained(file.parent, gguf_file=file.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        file.parent, gguf_file=file.name, dtype=_torch().float32
    )
    # a model read from GGUF refuses save_pretrained until its quantisation record is dropped
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    partial = folder.with_name(folder.name + f".{os.getpid()}.part")
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    os.replace(partial, folder)
    return folder


class Policy:
    """A causal LM policy (see the module docstring).

    Args:
        model: a ``transformers`` causal LM (``PreTrainedModel``), possibly a peft model.
        tokenizer: its tokenizer; a missing pad token is set to ``<eos>``.
        generator: how replies are sampled (default :class:`HFGenerator`).
        name: a label for logs.
    """

    def __init__(
        self, model: Any, tokenizer: Any, *, generator: Generator | None = None, name: str = "policy"
    ):
        self.model = model
        self.tokenizer = tokenizer
        if tokenizer.eos_token_id is None:
            raise PolicyError(f"{name}: the tokenizer has no <eos> token; replies could never end")
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.eos_id = int(tokenizer.eos_token_id)
        self.pad_id = int(tokenizer.pad_token_id)
        self.generator: Generator = generator or HFGenerator()
        self.name = name
        config = getattr(model, "config", None)
        self.max_context = int(
            getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None) or 2048
        )
        self._encodings: dict[str, tuple[int, ...]] = {}
        self.model.eval()  # no dropout anywhere: sampling and training see the same distribution

    # ---- loading and copies ----------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        gguf_file: str | None = None,
        lora: LoraSettings | Mapping[str, Any] | bool | None = None,
        dtype: str = "float32",
        device: str = "cpu",
        generator: Generator | None = None,
    ) -> Policy:
        """A policy from a local model folder (or a GGUF file: ``path`` the file, or the folder with
        ``gguf_file``), with a fresh LoRA adapter when ``lora`` is given."""
        transformers = _transformers()
        torch_dtype = _dtype(dtype)
        folder = Path(path)
        if gguf_file is not None:
            folder = load_gguf(folder / gguf_file)
        elif str(path).endswith(".gguf") or str(path) == "gemma3-270m":
            folder = load_gguf(path)
        if not folder.is_dir():
            raise PolicyError(f"no local model folder at {str(folder)!r} (the trainer never downloads)")
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model = transformers.AutoModelForCausalLM.from_pretrained(
                folder, local_files_only=True, dtype=torch_dtype
            )
        except (OSError, ValueError) as err:
            raise PolicyError(f"cannot load a causal LM from {str(folder)!r}: {err}") from err
        model.to(device)
        settings = LoraSettings.coerce(lora)
        if settings is not None:
            model = add_lora(model, settings)
        return cls(model, tokenizer, generator=generator, name=folder.name)

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    @property
    def is_lora(self) -> bool:
        return hasattr(self.model, "peft_config")

    def trainable_parameters(self) -> list[Any]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def trainable_state(self) -> dict[str, Any]:
        """Copies of the trainable tensors by name (the LoRA adapter, or every weight)."""
        return {n: p.detach().clone() for n, p in self.model.named_parameters() if p.requires_grad}

    def load_trainable_state(self, state: Mapping[str, Any]) -> None:
        """Put tensors saved by :meth:`trainable_state` back (names and shapes must match)."""
        torch = _torch()
        params = dict(self.model.named_parameters())
        missing = sorted(n for n, p in params.items() if p.requires_grad and n not in state)
        if missing:
            raise PolicyError(f"the saved policy lacks {len(missing)} trainable tensors, e.g. {missing[0]!r}")
        with torch.no_grad():
            for name, value in state.items():
                if name not in params:
                    raise PolicyError(f"the saved policy has a tensor {name!r} this model does not")
                if tuple(params[name].shape) != tuple(value.shape):
                    raise PolicyError(
                        f"tensor {name!r}: saved shape {tuple(value.shape)}, "
                        f"model {tuple(params[name].shape)}"
                    )
                params[name].copy_(value)

    def frozen_copy(self, name: str | None = None) -> Policy:
        """A copy that does not train (a reference, magnet or league snapshot), sampling with HF
        generate."""
        model = copy.deepcopy(self.model)
        for p in model.parameters():
            p.requires_grad_(False)
        twin = Policy(model, self.tokenizer, name=name or f"{self.name}-frozen")
        twin._encodings = self._encodings  # the same tokenizer: share the prompt encodings
        return twin

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Save the model (a LoRA model merged into its base weights) and tokenizer as a folder that
        :meth:`load` and ``llm:hf:FOLDER`` read."""
        path = Path(folder)
        model = self.model
        if self.is_lora:
            model = copy.deepcopy(model).merge_and_unload()
        partial = path.with_name(path.name + f".{os.getpid()}.part")
        model.save_pretrained(partial)
        self.tokenizer.save_pretrained(partial)
        if path.exists():
            import shutil

            shutil.rmtree(path)
        os.replace(partial, path)
        return path

    # ---- text <-> tokens -------------------------------------------------------------------------
    def encode(self, text: str) -> tuple[int, ...]:
        """Token ids of a prompt (the tokenizer's special tokens, e.g. a BOS, included), cached."""
        ids = self._encodings.get(text)
        if ids is None:
            if len(self._encodings) >= _CACHE_LIMIT:
                self._encodings.clear()
            ids = tuple(int(i) for i in self.tokenizer(text)["input_ids"])
            self._encodings[text] = ids
        return ids

    def encode_answer(self, text: str, eos: bool) -> tuple[int, ...]:
        """Token ids of a reply text as the model would write it (``<eos>`` appended if ``eos``)."""
        key = f"\x00answer\x00{int(eos)}\x00{text}"
        ids = self._encodings.get(key)
        if ids is None:
            ids = tuple(int(i) for i in self.tokenizer(text, add_special_tokens=False)["input_ids"])
            if eos:
                ids = (*ids, self.eos_id)
            if not ids:
                raise PolicyError(f"answer {text!r} has no tokens")
            self._encodings[key] = ids
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True))

    # ---- sampling and scoring --------------------------------------------------------------------
    def generate(
        self,
        prompts: Sequence[str],
        *,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_p: float = 1.0,
        seed: int = 0,
    ) -> list[Reply]:
        """Sample one reply per prompt through the policy's generator."""
        if not prompts:
            return []
        room = self.max_context - max_new_tokens
        if room < 1:
            raise PolicyError(f"{self.name}: max_new_tokens {max_new_tokens} leaves no room in the context")
        ids = [self.encode(p)[-room:] for p in prompts]  # keep the end: the private card, the question
        return self.generator.generate(
            self, ids, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, seed=seed
        )

    def _batch(
        self, prompt_ids: Sequence[Sequence[int]], reply_ids: Sequence[Sequence[int]]
    ) -> tuple[Any, ...]:
        """Left-padded prompt+reply ids, attention mask, positions, and the reply mask over the last
        ``R`` positions (R = the longest reply)."""
        torch = _torch()
        width = max(len(r) for r in reply_ids)
        rows = []
        for prompt, reply in zip(prompt_ids, reply_ids, strict=True):
            keep = self.max_context - len(reply)
            rows.append((list(prompt)[-keep:] if keep > 0 else []) + list(reply))
        length = max(len(r) for r in rows)
        ids = torch.full((len(rows), length), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        reply_mask = torch.zeros((len(rows), width), dtype=torch.float32)
        for i, (row, reply) in enumerate(zip(rows, reply_ids, strict=True)):
            ids[i, length - len(row) :] = torch.tensor(row, dtype=torch.long)
            mask[i, length - len(row) :] = 1
            reply_mask[i, width - len(reply) :] = 1.0
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        return ids, mask, positions, reply_mask, width

    def token_logprobs(
        self,
        prompt_ids: Sequence[Sequence[int]],
        reply_ids: Sequence[Sequence[int]],
        *,
        temperature: float = 1.0,
        grad: bool = False,
        model: Any = None,
    ) -> tuple[Any, Any]:
        """(logp, mask): the log-probability of every reply token given its prompt and the tokens
        before it, as a ``(batch, R)`` tensor right-aligned (R = longest reply), and the float mask of
        the real reply tokens. Logits are divided by ``temperature`` as the sampler divides them. Only
        the reply positions go through the output layer. ``model`` overrides the policy's model (a
        frozen copy's weights)."""
        torch = _torch()
        if any(len(r) == 0 for r in reply_ids):
            raise PolicyError("every reply needs at least one token")
        net = model if model is not None else self.model
        device = self.device
        ids, mask, positions, reply_mask, width = self._batch(prompt_ids, reply_ids)
        ids, mask, positions = ids.to(device), mask.to(device), positions.to(device)
        with torch.set_grad_enabled(grad):
            out = net(
                input_ids=ids,
                attention_mask=mask,
                position_ids=positions,
                logits_to_keep=width + 1,
                use_cache=False,
            )
            logits = out.logits[:, :-1].float()
            if temperature != 1.0:
                logits = logits / temperature
            logp = torch.log_softmax(logits, dim=-1)
            targets = ids[:, -width:]
            picked = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return picked * reply_mask.to(device), reply_mask.to(device)

    def score(
        self, prompts: Sequence[str], answers: Sequence[Sequence[str]], *, eos: bool, grad: bool = False
    ) -> list[Any]:
        """For each prompt, the log-probability (summed over tokens) of each of its answers, as a 1-d
        tensor per prompt; ``eos``: answers end with ``<eos>``."""
        torch = _torch()
        flat_prompts: list[tuple[int, ...]] = []
        flat_answers: list[tuple[int, ...]] = []
        sizes = []
        for prompt, options in zip(prompts, answers, strict=True):
            encoded = self.encode(prompt)
            sizes.append(len(options))
            for answer in options:
                flat_prompts.append(encoded)
                flat_answers.append(self.encode_answer(answer, eos))
        if not flat_answers:
            return [torch.zeros(0) for _ in prompts]
        logp, _ = self.token_logprobs(flat_prompts, flat_answers, grad=grad)
        totals = logp.sum(-1)
        out, start = [], 0
        for size in sizes:
            out.append(totals[start : start + size])
            start += size
        return out


def add_lora(model: Any, settings: LoraSettings) -> Any:
    """``model`` with a fresh LoRA adapter (peft); only the adapter trains."""
    try:
        import peft
    except ImportError:
        raise PolicyError("LoRA needs peft: pip install 'redqueen[llm-rl]'") from None
    target = settings.target_modules
    config = peft.LoraConfig(
        r=int(settings.r),
        lora_alpha=int(settings.alpha),
        lora_dropout=float(settings.dropout),
        target_modules=target if isinstance(target, str) else list(target),
        task_type="CAUSAL_LM",
    )
    try:
        return peft.get_peft_model(model, config)
    except ValueError as err:
        raise PolicyError(f"cannot add a LoRA adapter: {err}") from err


class HFGenerator:
    """Sampling with ``model.generate`` (KV cache, left padding), ``batch_size`` prompts at a time.
    Seeded in a forked torch generator: the same seed gives the same replies, and torch's global
    random state is left as it was."""

    def __init__(self, batch_size: int = 512):
        if batch_size < 1:
            raise PolicyError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)

    def sync(self, policy: Policy) -> None:
        """Nothing to do: generate reads the live weights."""

    def generate(
        self,
        policy: Policy,
        prompt_ids: Sequence[Sequence[int]],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
    ) -> list[Reply]:
        torch = _torch()
        replies: list[Reply] = []
        sample = temperature > 0
        options: dict[str, Any] = {
            "max_new_tokens": int(max_new_tokens),
            "do_sample": sample,
            "pad_token_id": policy.pad_id,
            "eos_token_id": policy.eos_id,
        }
        if sample:
            options.update(temperature=float(temperature), top_k=0, top_p=float(top_p))
        device = policy.device
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(int(seed))
            for start in range(0, len(prompt_ids), self.batch_size):
                chunk = prompt_ids[start : start + self.batch_size]
                length = max(len(p) for p in chunk)
                ids = torch.full((len(chunk), length), policy.pad_id, dtype=torch.long)
                mask = torch.zeros((len(chunk), length), dtype=torch.long)
                for i, row in enumerate(chunk):
                    ids[i, length - len(row) :] = torch.tensor(list(row), dtype=torch.long)
                    mask[i, length - len(row) :] = 1
                out = policy.model.generate(
                    input_ids=ids.to(device), attention_mask=mask.to(device), **options
                )
                for row in out[:, length:].tolist():
                    if policy.eos_id in row:
                        row = row[: row.index(policy.eos_id) + 1]
                        finished = True
                    else:
                        finished = False
                    replies.append(Reply(policy.decode(row), tuple(row), finished))
        return replies
