"""Trainers: learners that improve by playing.

* :mod:`redqueen.trainers.sb3_league`: SB3 PPO learners in a league;
* :mod:`redqueen.trainers.red_queen`: the Digital Red Queen loop that evolves Core War warriors
  (``redqueen evolve``);
* :mod:`redqueen.trainers.llm_selfplay`: SPIRAL-style multi-turn self-play RL for language models.
"""
