"""Generation through vLLM, for GPU users (``pip install 'redqueen[vllm]'`` on a CUDA machine).

:class:`VLLMGenerator` has the interface of
:class:`~redqueen.trainers.llm_selfplay.policy.HFGenerator`: ``generate(policy, prompt_ids, ...)``
returns one :class:`~redqueen.trainers.llm_selfplay.policy.Reply` per prompt, and ``sync(policy)``
makes the engine sample from the policy's current weights after an update:

* a LoRA policy saves its adapter to ``sync_dir/v<N>`` and the next requests carry a new
  ``LoRARequest`` for it (vLLM's documented way of serving changing adapters; the engine is made
  with ``enable_lora=True``);
* a fully trained policy hands its weights to the engine's model (``load_weights``) in place.

Prompts go to vLLM as token ids (the trainer's own tokenisation), every request has its own seed
drawn from the batch seed, and replies stop at ``<eos>``. In a config: ``[generation] backend =
"vllm"``, with engine settings under ``[generation.vllm]`` (e.g. ``gpu_memory_utilization = 0.3``:
the trainer's own copy of the model shares the GPU).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redqueen.trainers.llm_selfplay.policy import Policy, PolicyError, Reply


def _vllm() -> Any:
    try:
        import vllm
    except ImportError:
        raise PolicyError(
            "generation backend 'vllm' needs vLLM on a CUDA machine: pip install 'redqueen[vllm]' "
            "(or use backend 'hf', transformers' generate, which runs anywhere)"
        ) from None
    return vllm


class VLLMGenerator:
    """A vLLM engine over ``model`` (a local folder: the policy's base model) whose weights follow
    the policy (see the module docstring). ``engine`` settings go to ``vllm.LLM``."""

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        lora: bool = False,
        max_lora_rank: int = 16,
        sync_dir: str | os.PathLike[str] | None = None,
        seed: int = 0,
        **engine: Any,
    ):
        vllm = _vllm()
        self._vllm = vllm
        self.lora = bool(lora)
        options: dict[str, Any] = {"model": os.fspath(model), "seed": int(seed), **engine}
        if self.lora:
            options.update(enable_lora=True, max_lora_rank=int(max_lora_rank))
        self.llm = vllm.LLM(**options)
        self.sync_dir = (
            Path(sync_dir) if sync_dir is not None else Path(tempfile.mkdtemp(prefix="redqueen-vllm-"))
        )
        self.version = 0
        self._lora_request: Any = None

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
        vllm = self._vllm
        params = [
            vllm.SamplingParams(
                n=1,
                temperature=float(temperature),
                top_p=float(top_p),
                max_tokens=int(max_new_tokens),
                seed=int(seed) + i,
                stop_token_ids=[policy.eos_id],
            )
            for i in range(len(prompt_ids))
        ]
        prompts = [{"prompt_token_ids": [int(t) for t in ids]} for ids in prompt_ids]
        outputs = self.llm.generate(prompts, params, lora_request=self._lora_request, use_tqdm=False)
        replies = []
        for out in outputs:
            completion = out.outputs[0]
            ids = [int(t) for t in completion.token_ids]
            finished = completion.finish_reason == "stop"
            if finished and (not ids or ids[-1] != policy.eos_id):
                ids.append(policy.eos_id)  # vLLM leaves the stop token out of some outputs
            replies.append(Reply(policy.decode(ids), tuple(ids), finished))
        return replies

    def sync(self, policy: Policy) -> None:
        """Point the engine at the policy's current weights (see the module docstring)."""
        self.version += 1
        if self.lora:
            if not policy.is_lora:
                raise PolicyError("this vLLM generator serves a LoRA adapter, but the policy has none")
            folder = self.sync_dir / f"v{self.version}"
            policy.model.save_pretrained(folder)
            request_cls = self._vllm.lora.request.LoRARequest
            self._lora_request = request_cls(f"policy-v{self.version}", self.version, str(folder))
            return
        weights = [(name, tensor.detach()) for name, tensor in policy.model.state_dict().items()]
        model = self._engine_model()
        model.load_weights(weights)

    def _engine_model(self) -> Any:
        """The engine's torch model (the place differs between vLLM versions)."""
        engine = self.llm.llm_engine
        for path in (
            ("model_executor", "driver_worker", "model_runner", "model"),
            ("model_executor", "driver_worker", "worker", "model_runner", "model"),
        ):
            obj: Any = engine
            try:
                for attr in path:
                    obj = getattr(obj, attr)
            except AttributeError:
                continue
            return obj
        raise PolicyError(
            "cannot reach the vLLM engine's model to load new weights in this vLLM version; train with "
            "a LoRA adapter ([model] lora = {...}), which syncs through LoRA requests"
        )
