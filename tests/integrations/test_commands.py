"""The canvas, coverage, metadata and report commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from penji_tui.cli import EXIT_FAILED, main
from tests.helpers import STUDENT_HEADER, csv_bytes


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--db", url, "school", "add", "uni", "--name", "Uni"]) == 0
    assert main(["--db", url, "community", "add", "uni", "lc", "--name", "LC"]) == 0
    for kind in ("students", "courses", "student_metadata", "course_grades"):
        assert main(["--db", url, "integration", "set", "lc", kind, "on"]) == 0
    return url


def import_file(db: str, tmp_path: Path, kind: str, data: bytes, source: str) -> None:
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(data)
    args = ["--db", db, "import", kind, str(path), "--community", "lc"]
    assert main([*args, "--source", source]) == 0


def test_canvas_config_prints_json(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db, "canvas", "set", "lc", "placement=course"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "canvas", "config", "lc"]) == 0
    config = json.loads(capsys.readouterr().out)
    placements = config["extensions"][0]["settings"]["placements"]
    assert [p["placement"] for p in placements] == ["course_navigation"]


def test_canvas_config_steps_to_stderr(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "key.json"
    capsys.readouterr()
    assert main(["--db", db, "canvas", "config", "lc", "--steps", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Developer Keys" in captured.err
    assert json.loads(out.read_text(encoding="utf-8"))["title"] == "Penji"


def test_canvas_ids_rejects_bad_client_id(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--db", db, "canvas", "ids", "lc", "--client-id", "abc"])
    assert code == EXIT_FAILED
    assert "invalid client ID 'abc'" in capsys.readouterr().err


def test_canvas_set_rejects_unknown_value(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--db", db, "canvas", "set", "lc", "environment=staging"])
    assert code == EXIT_FAILED
    assert "use one of: production, beta, test" in capsys.readouterr().err


def test_coverage_stale_lines(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_file(
        db, tmp_path, "courses", csv_bytes("Course Code", ["MATH1301-Lim"]), "sftp"
    )
    providers = csv_bytes("Email,Courses", ["ana@uni.edu,MATH1301|"])
    import_file(db, tmp_path, "providers", providers, "custom")
    capsys.readouterr()
    assert main(["--db", db, "coverage", "lc", "--stale"]) == 0
    out = capsys.readouterr().out
    assert out == "stale\tana@uni.edu\tMATH1301\ttry: MATH1301-Lim\n"


def test_metadata_keep_then_list(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db, "metadata", "fields", "lc", "--keep", "Major,Holds"]) == 0
    out = capsys.readouterr().out
    assert "holds" in out
    assert "major" in out


def test_report_engagement_csv(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    students = csv_bytes(STUDENT_HEADER, ["s1@uni.edu,A,B,sso1,000001"])
    import_file(db, tmp_path, "students", students, "sftp")
    grades = csv_bytes("Student ID,Course Code,Term,Grade", ["000001,CHEM1,2026SP,B"])
    import_file(db, tmp_path, "course_grades", grades, "sftp")
    out = tmp_path / "report.csv"
    assert main(["--db", db, "report", "engagement", "lc", "--csv", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[4] == "2026SP,3.0-3.5,1,0,0.0,0,0,0.00"


def test_report_bad_date(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--db", db, "report", "engagement", "lc", "--from", "1/2/2026"])
    assert code == EXIT_FAILED
    assert "invalid date '1/2/2026'" in capsys.readouterr().err
