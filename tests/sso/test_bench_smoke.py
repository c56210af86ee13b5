"""The SSO benchmark still runs: a smoke run with no timing checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sso_bench.py"


def test_sso_bench_smoke() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--smoke"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "3 runs, sqlite, xmlsec1, RSA-2048 SHA-256"
    assert lines[2].startswith("check SAMLResponse: median")
