"""The command line: summaries, JSON output, exit codes and clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from penji_tui.cli import main
from tests.helpers import STUDENT_HEADER, csv_bytes, student_rows


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--db", url, "school", "add", "uni", "--name", "Uni"]) == 0
    assert main(["--db", url, "community", "add", "uni", "lc", "--name", "LC"]) == 0
    assert main(["--db", url, "integration", "set", "lc", "students", "on"]) == 0
    return url


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def run_json(
    capsys: pytest.CaptureFixture[str], db: str, path: str, *extra: str
) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(
        [
            "--db",
            db,
            "import",
            "students",
            path,
            "--community",
            "lc",
            "--source",
            "sftp",
            "--json",
            *extra,
        ]
    )
    return code, json.loads(capsys.readouterr().out)


def test_import_applies_with_json(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "s.csv", csv_bytes(STUDENT_HEADER, student_rows(10)))
    code, result = run_json(capsys, db, path)
    assert code == 0
    assert result["status"] == "applied"
    assert result["counts"]["added"] == 10
    assert isinstance(result["run_id"], int)
    assert result["errors"] == []


def test_dry_run_previews(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "s.csv", csv_bytes(STUDENT_HEADER, student_rows(3)))
    code, result = run_json(capsys, db, path, "--dry-run")
    assert code == 0
    assert result["status"] == "previewed"
    code, result = run_json(capsys, db, path, "--dry-run")
    assert result["counts"]["added"] == 3


def test_rejected_exit_one_with_line(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "s.csv", b"Email\nok@uni.edu\nnot-an-email\n")
    code, result = run_json(capsys, db, path)
    assert code == 1
    assert result["status"] == "rejected"
    assert result["errors"] == [
        {
            "line": 3,
            "column": "Email",
            "message": "invalid email address 'not-an-email'",
        }
    ]


def test_held_exit_three_then_force(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(
        capsys,
        db,
        write(tmp_path, "a.csv", csv_bytes(STUDENT_HEADER, student_rows(10))),
    )
    smaller = write(tmp_path, "b.csv", csv_bytes(STUDENT_HEADER, student_rows(5)))
    code, result = run_json(capsys, db, smaller)
    assert code == 3
    assert result["status"] == "held"
    assert "5 of 10 students (50.0%)" in result["hold_reason"]
    code, result = run_json(capsys, db, smaller, "--force")
    assert code == 0
    assert result["status"] == "applied"


def test_text_summary_and_run_commands(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        [
            "--db",
            db,
            "import",
            "students",
            write(tmp_path, "a.csv", csv_bytes(STUDENT_HEADER, student_rows(10))),
            "--community",
            "lc",
            "--source",
            "sftp",
        ]
    )
    rows = student_rows(10)
    rows[0] = rows[0].replace("First0", "Zed")
    capsys.readouterr()
    code = main(
        [
            "--db",
            db,
            "import",
            "students",
            write(tmp_path, "b.csv", csv_bytes(STUDENT_HEADER, rows)),
            "--community",
            "lc",
            "--source",
            "sftp",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "added 0, changed 1, removed 0, unchanged 9" in out
    assert "~ s0@uni.edu  first_name: 'First0' -> 'Zed'" in out

    assert main(["--db", db, "imports", "list"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("applied") == 2
    assert main(["--db", db, "imports", "rollback", "2"]) == 0
    assert "run 2 is now rolled_back" in capsys.readouterr().out


def test_backend_error_is_one_line(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--db", db, "integration", "set", "nowhere", "students", "on"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: community 'nowhere' not found")
    assert "Traceback" not in err


def test_missing_file_is_clear(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--db", db, "import", "students", "/nonexistent.csv", "--community", "lc"]
    )
    assert code == 2
    assert "cannot read /nonexistent.csv" in capsys.readouterr().err


def test_bad_database_url_is_clear(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--db",
            "postgresql+psycopg://nobody:secret@127.0.0.1:1/none",
            "school",
            "list",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot open database" in err
    assert "secret" not in err


def test_help_runs_as_a_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "penji_tui", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "import" in result.stdout


def test_database_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("PENJI_DATABASE_URL", url)
    assert main(["school", "add", "envu", "--name", "Env U"]) == 0
    assert (tmp_path / "env.db").exists()
    capsys.readouterr()
    assert main(["--db", url, "school", "list"]) == 0
    assert capsys.readouterr().out.startswith("envu\tEnv U")


def test_demo_loads_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["--db", url, "demo", "--no-console"]) == 0
    first = capsys.readouterr().out
    assert "Students (sftp) for northfield-learning" in first
    assert ": previewed" in first.splitlines()[0]
    assert main(["--db", url, "demo", "--no-console"]) == 0
    capsys.readouterr()
    assert main(["--db", url, "community", "list", "northfield"]) == 0
    communities = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in communities] == [
        "northfield-learning",
        "northfield-writing",
    ]
    assert main(["--db", url, "imports", "list", "--status", "applied"]) == 0
    applied = capsys.readouterr().out.splitlines()
    assert len(applied) == 12


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "invalid database URL 'nonsense'"),
        ("mysql://u@127.0.0.1/x", "its driver is not installed"),
        ("sqlite:////nonexistent-folder/x.db", "folder /nonexistent-folder does not"),
    ],
)
def test_database_url_problems_are_clear(
    url: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--db", url, "school", "list"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "unexpected" not in err
    assert not Path("/nonexistent-folder").exists()


def test_directory_as_file_is_clear(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--db", db, "import", "students", str(tmp_path), "--community", "lc"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot read {tmp_path}" in err


def test_json_failure_is_json(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "s.csv", csv_bytes(STUDENT_HEADER, student_rows(2)))
    code = main(
        ["--db", db, "import", "students", path, "--community", "nowhere", "--json"]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 2
    assert result["status"] == "failed"
    assert "community 'nowhere' not found" in result["error"]


def test_undecodable_file_name_is_kept(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = os.fsdecode(b"caf\xe9-students.csv")
    path = tmp_path / name
    path.write_bytes(csv_bytes(STUDENT_HEADER, student_rows(2)))
    code, result = run_json(capsys, db, str(path))
    assert code == 0
    assert result["file"] == "caf\ufffd-students.csv"


def test_rejected_counts_have_every_key(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "s.csv", b"Email\nnot-an-email\n")
    _, result = run_json(capsys, db, path)
    assert set(result["counts"]) == {
        "added",
        "changed",
        "removed",
        "unchanged",
        "replaced",
    }


def test_held_import_keeps_exit_code_when_pipe_closes(db: str, tmp_path: Path) -> None:
    first = write(tmp_path, "a.csv", csv_bytes(STUDENT_HEADER, student_rows(50)))
    assert main(["--db", db, "import", "students", first, "--community", "lc"]) == 0
    # Removing 45 of 50 students trips the guard, so the import is held.
    second = write(tmp_path, "b.csv", csv_bytes(STUDENT_HEADER, student_rows(5)))
    command = ["--db", db, "import", "students", second, "--community", "lc"]
    process = subprocess.Popen(
        [sys.executable, "-m", "penji_tui", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # The reader goes away before the first line, as "| head" does after it.
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=60)

    assert process.returncode == 3
    assert b"Traceback" not in err
