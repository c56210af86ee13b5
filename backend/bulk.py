"""Pausing the cyclic garbage collector while whole files are read and compared.

A preview of 350,000 rows allocates millions of tuples and strings. Each
allocation burst starts a collection, and the oldest generation's collections
walk every live row again, which cost about a third of the preview's time
(bench/university_bench.py). Rows are tuples of strings and hold no reference
cycles, so reference counting frees them with the collector paused.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector until the last overlapping caller leaves.

    The collector is process-wide, so overlapping callers in other threads
    share one pause; it is enabled again only if it was enabled at the start.
    """
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
