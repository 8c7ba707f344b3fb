"""Negotiation games: Deal or No Deal with a cooperative <-> competitive dial, resource trading and price
bargaining, one family with a text view for language models and a discrete view for RL.

* :mod:`~redqueen.envs.negotiation.deal_or_no_deal` (game id ``"negotiation"``,
  ``redqueen/Negotiation-v0``, PettingZoo ``redqueen.envs.negotiation_v0``);
* :mod:`~redqueen.envs.negotiation.trading` (``"resource_trading"``, ``redqueen/ResourceTrading-v0``,
  ``redqueen.envs.resource_trading_v0``);
* :mod:`~redqueen.envs.negotiation.bargaining` (``"price_bargaining"``, ``redqueen/PriceBargaining-v0``,
  ``redqueen.envs.price_bargaining_v0``);
* :mod:`~redqueen.envs.negotiation.agents`: scripted negotiators (greedy, fair, conceder);
* :mod:`~redqueen.envs.negotiation.evaluation`: agreement rate, Pareto-optimality, joint and
  individual value;
* :mod:`~redqueen.envs.negotiation.base`: the message machinery the three games share.
"""

from redqueen.envs.negotiation.agents import SCRIPTED_AGENTS, Conceder, FairSplitter, GreedyProposer
from redqueen.envs.negotiation.bargaining import PriceBargaining
from redqueen.envs.negotiation.deal_or_no_deal import DealOrNoDeal, Scenario, generate_scenario
from redqueen.envs.negotiation.trading import ResourceTrading, TradingScenario

__all__ = [
    "SCRIPTED_AGENTS",
    "Conceder",
    "DealOrNoDeal",
    "FairSplitter",
    "GreedyProposer",
    "PriceBargaining",
    "ResourceTrading",
    "Scenario",
    "TradingScenario",
    "generate_scenario",
]
