"""Evaluation: exact exploitability and best responses (OpenSpiel bridge and redqueen's own tree walk),
and Core War hill evaluation (:func:`hill`: one warrior against a set of opponents, pMARS scores)."""

from redqueen.evaluation.exact import (
    GameBridgeError,
    PolicyTable,
    best_response_values,
    expected_returns,
    exploitability,
    exploitability_exact,
    nash_conv,
    nash_conv_exact,
    openspiel_policy,
    policy_table,
)
from redqueen.evaluation.hill import HillResult, HillRow, hill

__all__ = [
    "GameBridgeError",
    "HillResult",
    "HillRow",
    "PolicyTable",
    "best_response_values",
    "expected_returns",
    "exploitability",
    "exploitability_exact",
    "hill",
    "nash_conv",
    "nash_conv_exact",
    "openspiel_policy",
    "policy_table",
]
