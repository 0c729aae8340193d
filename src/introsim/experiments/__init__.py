"""Experiments: many runs of the model, their executor, statistics and analyses."""
