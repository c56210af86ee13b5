"""Models and services of penji-tui, free of any user-interface code."""
