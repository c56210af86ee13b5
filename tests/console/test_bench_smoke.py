"""The preview table bench still runs: a small run, with no timing checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "preview_table_bench.py"


def test_preview_table_bench_smoke() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "500"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "diff: 500 changed rows" in result.stdout
    assert "time to first paint after the diff" in result.stdout
