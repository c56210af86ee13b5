"""Counts of the inputs each property-based test tried, printed after the run."""

from __future__ import annotations

from collections import Counter

EXAMPLES: Counter[str] = Counter()


def count_example(name: str) -> None:
    """Count one input tried by the property-based test ``name``."""
    EXAMPLES[name] += 1
