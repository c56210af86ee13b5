"""The card commands: layout show and set, parse, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.db import open_database
from penji_tui.cli import main
from tests.cards.helpers import card_community


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    factory = open_database(url)
    card_community(factory)
    factory.kw["bind"].dispose()
    return url


def run(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--db", db, "card", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_parse_prints_tracks_and_student(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out = run(capsys, db, "parse", "lc", r"%B1^LOVELACE/ADA^?\r;000123=25?\r")
    assert code == 0
    assert "track 1: '%B1^LOVELACE/ADA^?'" in out
    assert "track 2: ';000123=25?'" in out
    assert "id: 000123" in out
    assert "student: Ada Lovelace <ada@uni.edu>" in out


def test_parse_json_failed_read(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out = run(capsys, db, "parse", "lc", r"%E?;E?\r", "--json")
    result = json.loads(out)
    assert code == 1
    assert result["status"] == "failed_read"
    assert result["id"] is None
    assert result["reason"] == "the reader reported a failed read of track 2"
    assert result["student"] is None


def test_parse_json_unmatched_id(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out = run(capsys, db, "parse", "lc", r";777=1?", "--json")
    result = json.loads(out)
    assert code == 0
    assert result["id"] == "777"
    assert result["student"] is None


def test_layout_set_then_show(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out = run(
        capsys,
        db,
        "layout",
        "set",
        "lc",
        "--mask",
        "uuuuuuuuuuiiiiiiiu",
        "--sample",
        r";1234567899991082?\r",
    )
    assert code == 0
    assert "sample 1 gives id 9991082" in out
    code, out = run(capsys, db, "layout", "show", "lc", "--json")
    shown = json.loads(out)
    assert shown["layout"] == {"source": "track2", "mask": "uuuuuuuuuuiiiiiiiu"}
    assert shown["samples"] == [";1234567899991082?\r"]


def test_layout_method_replaced(capsys: pytest.CaptureFixture[str], db: str) -> None:
    run(capsys, db, "layout", "set", "lc", "--mask", "uiii")
    code, out = run(capsys, db, "layout", "set", "lc", "--regex", r"(\d+)=", "--json")
    assert code == 0
    assert json.loads(out)["layout"] == {"source": "track2", "regex": r"(\d+)="}


def test_layout_set_rejects_failing_sample(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out = run(
        capsys, db, "layout", "set", "lc", "--regex", "(X+)", "--sample", ";123?"
    )
    assert code == 2
    assert "sample 1" in out
    assert "--force" in out


def test_layout_set_invalid_mask(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out = run(capsys, db, "layout", "set", "lc", "--mask", "uuzz")
    assert code == 2
    assert "invalid layout mask 'uuzz'" in out


def test_listen_needs_integration_on(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    assert main(["--db", db, "integration", "set", "lc", "card_readers", "off"]) == 0
    code, out = run(capsys, db, "listen", "lc", "--port", "/dev/null")
    assert code == 2
    assert "Card Readers is off for lc" in out
