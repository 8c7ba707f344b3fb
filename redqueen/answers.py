"""Invalid-answer policies shared by the text env and the match runner.

A text agent's reply is turned into an action by the game's ``parse_action``; a reply with no legal
move is an *invalid answer*. What happens next is the policy's choice:

* ``"forfeit"`` (default): the game ends at once; the offender gets the game's minimum return.
* ``"retry"``: the offender is asked again, with the reason shown, up to ``max_retries`` times, and
  ``penalty`` is subtracted from its return for each invalid answer; after the last retry it forfeits.
* ``"random"``: a uniformly random legal move is played for the offender instead.

Every invalid answer is counted per player whatever the policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

InvalidMode = Literal["forfeit", "retry", "random"]
INVALID_MODES: tuple[str, ...] = ("forfeit", "retry", "random")


@dataclass(frozen=True)
class InvalidAnswerPolicy:
    mode: InvalidMode = "forfeit"
    max_retries: int = 2
    penalty: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError(f"max_retries must be an int, got {self.max_retries!r}")
        if isinstance(self.penalty, bool) or not isinstance(self.penalty, int | float):
            raise TypeError(f"penalty must be a number, got {self.penalty!r}")
        if self.mode not in INVALID_MODES:
            raise ValueError(f"invalid-answer policy must be one of {INVALID_MODES}, got {self.mode!r}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.penalty < 0:
            raise ValueError(
                f"penalty is subtracted from the offender's return: give >= 0, not {self.penalty}"
            )

    @classmethod
    def coerce(cls, value: InvalidAnswerPolicy | str | None) -> InvalidAnswerPolicy:
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls(mode=value)  # type: ignore[arg-type]
        raise TypeError(f"expected an InvalidAnswerPolicy or one of {INVALID_MODES}, got {value!r}")


def retry_prompt(text: str, reason: str, attempt: int, max_retries: int) -> str:
    """The prompt shown again after an invalid answer, with the reason."""
    left = max_retries - attempt + 1
    return (
        f"{text}\n\nYour previous answer was invalid: {reason} "
        f"Try again ({left} {'try' if left == 1 else 'tries'} left)."
    )
