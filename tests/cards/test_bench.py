"""The card reader benchmark still runs: a smoke run, with no timing checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_cards_bench_smoke() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "cards_bench.py"), "--smoke"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("parse: ")
    assert lines[-1].startswith("record with 200 students: ")
