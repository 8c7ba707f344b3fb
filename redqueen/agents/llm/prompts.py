"""Prompts for language-model players, built from a game's text view.

A :class:`PromptTemplate` turns an agent observation (``obs["text"]``, ``obs["legal_moves"]``) into

* chat messages (:meth:`PromptTemplate.messages`): an optional system prompt, few-shot examples
  (user/assistant pairs), in ``history`` mode the earlier turns of this game, and the current prompt;
* one completion prompt (:meth:`PromptTemplate.completion`) for base models that have no chat
  template (SPIRAL trains Qwen3-4B-Base this way): the same parts joined into raw text, ending in
  ``completion_suffix``.

The default wording follows SPIRAL's: the model is told it plays a two-player zero-sum game and to put
its final answer within ``\\boxed{}``. Every field can be overridden; templates use ``str.format`` with
``{observation}``, ``{legal_moves}`` and ``{game_id}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SYSTEM = (
    "You are playing a two-player zero-sum game. Make valid moves to win. Think step by step if you "
    "like, then put your final answer within \\boxed{{}}, e.g. \\boxed{{{example}}}."
)
DEFAULT_USER = "{observation}\n\nYour legal moves: {legal_moves}. Put your final answer within \\boxed{{}}."
DEFAULT_COMPLETION_SUFFIX = "\nAnswer (reason briefly, then give the move within \\boxed{}):"


def _bare(move: str) -> str:
    move = str(move)
    return move[1:-1] if move.startswith("[") and move.endswith("]") else move


@dataclass(frozen=True)
class PromptTemplate:
    """How an observation becomes a prompt (see the module docstring)."""

    system: str | None = DEFAULT_SYSTEM
    user: str = DEFAULT_USER
    examples: tuple[tuple[str, str], ...] = ()
    completion_suffix: str = DEFAULT_COMPLETION_SUFFIX
    history: bool = False
    """Chat history mode: earlier prompts and replies of the same game are sent again."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """More fields for the templates' ``str.format``."""
    answer_prefix: str = ""
    """Completion mode only: text the prompt ends with and the model's reply continues (a prefill),
    read back as ``answer_prefix + reply``. ``"\\boxed{"`` makes a small base model name its move
    at once instead of rambling (see :data:`DIRECT`)."""

    def _fields(self, observation: Mapping[str, Any]) -> dict[str, Any]:
        try:
            text = observation["text"]
            moves = list(observation["legal_moves"])
        except (KeyError, TypeError):
            raise ValueError(
                "a language-model agent reads the text view: an observation with 'text' and 'legal_moves'"
            ) from None
        bare = [_bare(m) for m in moves]
        return {
            "observation": text,
            "legal_moves": ", ".join(bare),
            "game_id": observation.get("game_id", "game"),
            "example": bare[0] if bare else "move",
            **self.extra,
        }

    def _format(self, template: str, fields: Mapping[str, Any]) -> str:
        try:
            return template.format(**fields)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"prompt template {template[:60]!r}... cannot be filled: {err!r}") from None

    def user_text(self, observation: Mapping[str, Any]) -> str:
        return self._format(self.user, self._fields(observation))

    def system_text(self, observation: Mapping[str, Any]) -> str | None:
        return None if self.system is None else self._format(self.system, self._fields(observation))

    def messages(
        self, observation: Mapping[str, Any], history: Sequence[tuple[str, str]] = ()
    ) -> list[dict[str, str]]:
        """Chat messages for ``observation``; ``history`` = earlier (prompt, reply) turns of this game,
        sent only in history mode."""
        out: list[dict[str, str]] = []
        system = self.system_text(observation)
        if system:
            out.append({"role": "system", "content": system})
        for user, assistant in self.examples:
            out += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        if self.history:
            for user, assistant in history:
                out += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        out.append({"role": "user", "content": self.user_text(observation)})
        return out

    def completion(self, observation: Mapping[str, Any], history: Sequence[tuple[str, str]] = ()) -> str:
        """One raw prompt for completion mode (base models)."""
        parts = []
        system = self.system_text(observation)
        if system:
            parts.append(system)
        turns = list(self.examples) + (list(history) if self.history else [])
        for user, assistant in turns:
            parts.append(f"{user}{self.completion_suffix} {assistant}")
        prefill = f" {self.answer_prefix}" if self.answer_prefix else ""
        parts.append(self.user_text(observation) + self.completion_suffix + prefill)
        return "\n\n".join(parts)


DIRECT = PromptTemplate(completion_suffix="\nAnswer with the move only.\nAnswer:", answer_prefix="\\boxed{")
"""A completion-mode template for small base models: the prompt ends in ``Answer: \\boxed{`` and the
model only has to write the move (SPIRAL's template asks for reasoning first, which a 270M base
model turns into an echo of the prompt)."""

# A picture inside a game's text view: a Markdown image whose address is a base64 data URI
IMAGE_MARKDOWN = re.compile(r"!\[([^\]\n]*)\]\((data:image/[a-zA-Z0-9.+-]+;base64,[A-Za-z0-9+/=]+)\)")


def has_images(text: Any) -> bool:
    """Whether ``text`` (a message's content) holds a Markdown data-URI picture."""
    return isinstance(text, str) and "](data:image/" in text and IMAGE_MARKDOWN.search(text) is not None


def content_parts(text: str) -> list[dict[str, Any]]:
    """``text`` as OpenAI chat content parts: the text around each Markdown data-URI picture
    (``![alt](data:image/png;base64,...)``) as ``{"type": "text"}`` parts, and each picture, in its
    place, as an ``{"type": "image_url", "image_url": {"url": <the data URI>}}`` part (what
    OpenAI-compatible servers with a vision model read)."""
    parts: list[dict[str, Any]] = []
    start = 0
    for match in IMAGE_MARKDOWN.finditer(text):
        before = text[start : match.start()]
        if before.strip():
            parts.append({"type": "text", "text": before})
        parts.append({"type": "image_url", "image_url": {"url": match.group(2)}})
        start = match.end()
    if text[start:].strip() or not parts:
        parts.append({"type": "text", "text": text[start:]})
    return parts


def with_image_parts(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chat messages with every picture-holding content turned into :func:`content_parts`."""
    return [
        {**m, "content": content_parts(m["content"])} if has_images(m.get("content")) else dict(m)
        for m in messages
    ]
