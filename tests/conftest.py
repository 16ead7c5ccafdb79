"""Hypothesis runs the same examples on every machine, so a red test reproduces anywhere."""

from hypothesis import settings

settings.register_profile("book", derandomize=True, deadline=None, database=None)
settings.load_profile("book")
