"""Trainers: learners that improve by playing (SB3 PPO in a league: :mod:`redqueen.trainers.sb3_league`)."""
