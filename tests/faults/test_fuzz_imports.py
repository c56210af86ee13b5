"""Arbitrary bytes, broken quoting, odd encodings and huge fields for every import kind.

Whatever the file holds, reading it raises no exception, every error names a
line, and a rejected file writes no roster row.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend.db import open_database
from backend.formats.kinds import KINDS
from backend.formats.parse import parse_bytes
from backend.imports import service
from tests.backend.test_formats import VALID_FILES
from tests.fuzzcount import count_example
from tests.helpers import make_community

KIND_NAMES = sorted(KINDS)

cell_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
)
csv_noise = st.sampled_from(
    ['"', '""', ",", "\n", "\r\n", "\r", ";", "\t", " ", "*", "|"]
)


@st.composite
def mangled_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """Build a file of some kind from a valid one with damage mixed in."""
    kind = draw(st.sampled_from(KIND_NAMES))
    lines = VALID_FILES[kind].splitlines()
    pieces: list[str] = []
    for line in lines:
        cells = line.split(",")
        if draw(st.booleans()):
            index = draw(st.integers(0, len(cells) - 1))
            cells[index] = draw(st.one_of(cell_text, csv_noise, st.just("9.9E+11")))
        if draw(st.integers(0, 9)) == 0:
            cells.append(draw(cell_text))
        pieces.append(",".join(cells))
        if draw(st.integers(0, 9)) == 0:
            pieces.append(draw(st.one_of(cell_text, csv_noise)))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(pieces)
    encoding = draw(
        st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"])
    )
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 4)) == 0:
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.binary(max_size=8)) + data[position:]
    return kind, data


def check_parsed(kind: str, data: bytes) -> None:
    parsed = parse_bytes(KINDS[kind], data, f"{kind}.csv")
    for problem in parsed.errors.items:
        assert problem.line >= 1, problem
        assert problem.message
    if parsed.ok:
        assert parsed.rows
        for values in parsed.rows.values():
            assert len(values) == len(parsed.fields)


@settings(max_examples=1500, deadline=None)
@given(mangled_files())
def test_mangled_files_never_crash(file: tuple[str, bytes]) -> None:
    count_example("imports: mangled valid files")
    check_parsed(*file)


@settings(max_examples=800, deadline=None)
@given(st.sampled_from(KIND_NAMES), st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(kind: str, data: bytes) -> None:
    count_example("imports: arbitrary bytes")
    check_parsed(kind, data)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(KIND_NAMES), st.integers(100_000, 1_500_000))
def test_huge_field_is_read_or_named(kind: str, size: int) -> None:
    count_example("imports: huge fields")
    header, first, *_ = VALID_FILES[kind].splitlines()
    cells = first.split(",")
    cells[-1] = '"' + "x" * size + '"'
    data = f"{header}\n{','.join(cells)}\n".encode()
    parsed = parse_bytes(KINDS[kind], data, "huge.csv")
    if size > 1_000_000:
        assert not parsed.ok
        assert parsed.errors.items[0].line == 2


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(file=mangled_files())
def test_rejected_file_writes_nothing(tmp_path: Path, file: tuple[str, bytes]) -> None:
    count_example("imports: preview and apply on SQLite")
    kind, data = file
    database = tmp_path / f"fuzz-{abs(hash(data))}.db"
    factory = open_database(f"sqlite:///{database}")
    try:
        make_community(factory)
        source = "custom" if kind == "providers" else "sftp"
        preview = service.preview_import(factory, "lc", kind, source, data, "f.csv")
        model = KINDS[kind].model
        if preview.status == "rejected":
            with factory() as session:
                assert session.scalar(select(func.count()).select_from(model)) == 0
        else:
            run = service.apply_preview(factory, preview)
            assert run.status == "applied"
    finally:
        factory.kw["bind"].dispose()
        database.unlink(missing_ok=True)


def test_bom_file_is_read() -> None:
    data = codecs.BOM_UTF8 + VALID_FILES["students"].encode()
    assert parse_bytes(KINDS["students"], data, "s.csv").ok
