"""Evaluation: exact exploitability and best responses (OpenSpiel bridge and redqueen's own tree walk)."""

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

__all__ = [
    "GameBridgeError",
    "PolicyTable",
    "best_response_values",
    "expected_returns",
    "exploitability",
    "exploitability_exact",
    "nash_conv",
    "nash_conv_exact",
    "openspiel_policy",
    "policy_table",
]
