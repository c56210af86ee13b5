"""The benchmarks still run: a small smoke run of each, with no timing checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_import_bench_smoke() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "import_bench.py"), "--smoke"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2,000 students, 10,000 enrollment rows, sqlite"
    assert lines[-1].startswith("course_enrollment next night")


def test_daemon_bench_smoke() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "daemon_bench.py"), "--smoke"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2 communities, 200 students each, sqlite"
    assert "6 files imported" in lines[1]
    assert "6 skipped, 8 exports written" in lines[2]


def test_university_bench_smoke() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "university_bench.py"), "--smoke"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1,000 students, 100 courses, 5,000 enrollment rows")
    assert any(line.strip().startswith("student_metadata next night") for line in lines)
    assert any("preview table first paint" in line for line in lines)
    assert lines[-1].startswith("console ready")
