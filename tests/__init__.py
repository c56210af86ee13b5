"""Test suite for penji-tui.

csv-diff 1.2 installs a top-level `tests` package into site-packages, and Python
prefers any regular package to a namespace package. This file makes the folder a
regular package, so `import tests.services` finds it because pytest puts the
repository root ahead of site-packages on sys.path.
"""
