"""Read an import file into normalised rows keyed as the kind defines.

Every cell is text: IDs keep their leading zeros and nothing is converted to a
number. Problems are collected with line and column rather than raised, so that
one read reports every error in the file.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from backend.formats.decode import decode_bytes
from backend.formats.kinds import (
    COURSE_NUMBER,
    SUBJECT,
    Field,
    KindSpec,
    normalize_header,
)
from backend.formats.problems import ProblemList

MAX_FIELD_CHARS = 1_000_000
csv.field_size_limit(MAX_FIELD_CHARS)

# The length of the stored key, which joins the key fields with "|".
MAX_KEY_LENGTH = 320

# Raised whenever a change here could read a line of a file differently, so
# that previews stop comparing lines with a file read by older rules
# (backend/imports/baseline.py).
PARSER_VERSION = 2

Row = tuple[str, ...]
# Called with the share of a file's lines read so far, from 0 to 1.
Progress = Callable[[float], None]
# Lines read between two calls of a Progress.
PROGRESS_EVERY = 20_000


@dataclass
class ParsedFile:
    """The rows of one import file and what was wrong with it.

    ``fields`` names the values of each row in ``rows``, which maps each row's key
    to its values. ``lines`` gives the line each key was read from.
    ``value_caches`` holds, per field, the shared string of each value of a
    column that repeats across rows, so that stored rows can share them too.

    ``clean`` is true when each record is one line of the file and no line has
    a warning of its own, so that the same line reads the same in another file
    with this header. ``partial`` marks a read of only some of a file's lines.
    """

    spec: KindSpec
    file_name: str
    fields: tuple[str, ...] = ()
    rows: dict[str, Row] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    errors: ProblemList = field(default_factory=ProblemList)
    warnings: ProblemList = field(default_factory=ProblemList)
    headers: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    value_caches: list[dict[str, str] | None] = field(default_factory=list)
    clean: bool = True
    partial: bool = False
    course_codes: set[str] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def referenced_codes(self) -> set[str]:
        """Return the distinct course codes the rows name, if the kind has them."""
        if self.course_codes is not None:
            return self.course_codes
        if "course_code" not in self.fields:
            return set()
        position = self.fields.index("course_code")
        cache = self.value_caches[position] if self.value_caches else None
        # A cache holds only non-empty values, so it lists every code only
        # where the code is required. An open metadata column may be empty.
        required = any(f.name == "course_code" and f.required for f in self.spec.fields)
        if cache is not None and required:
            return {value for value in cache.values() if value}
        return {values[position] for values in self.rows.values()}


@dataclass
class _Column:
    """Source columns of one stored field: candidate column indexes, best first.

    ``joined`` contains the Subject and Course Number indexes when a course code is
    built from them.
    """

    spec_field: Field
    indexes: list[int]
    joined: tuple[int, int] | None = None

    def value(self, record: list[str]) -> str:
        if self.joined is not None:
            subject, number = self.joined
            return record[subject].strip() + record[number].strip()
        for index in self.indexes:
            cell = record[index].strip()
            if cell:
                return cell
        return ""


def metadata_field_name(header: str) -> str:
    """Turn a metadata header into a field name, so ``Year In School`` is
    ``year_in_school``."""
    return "_".join(re.findall(r"[0-9a-z]+", header.lower()))


def _check_delimiter(header_line: str, parsed: ParsedFile) -> bool:
    for delimiter, name in ((";", "semicolons"), ("\t", "tabs")):
        if delimiter in header_line:
            parsed.errors.add(
                1,
                "",
                f"the header is separated by {name}, not commas; save the file as "
                "CSV (comma delimited) and import again",
            )
            return False
    return True


def _map_columns(
    headers: list[str], parsed: ParsedFile, keep_fields: Sequence[str] | None
) -> list[_Column] | None:
    spec = parsed.spec
    normalized = [normalize_header(h) for h in headers]
    used: set[int] = set()
    columns: list[_Column] = []

    for spec_field in spec.fields:
        indexes = [
            i
            for alias in spec_field.aliases
            for i, name in enumerate(normalized)
            if name == alias and i not in used
        ]
        used.update(indexes)
        if len(indexes) > 1:
            first, *rest = (headers[i] for i in indexes)
            for other in rest:
                parsed.warnings.add(
                    1,
                    other,
                    f"column {other!r} is read only where {first!r} is empty, since "
                    f"both give the {spec_field.label}",
                )
        columns.append(_Column(spec_field, indexes))

    missing = [c.spec_field for c in columns if c.spec_field.required and not c.indexes]
    if spec.code_from_subject and any(f.name == "course_code" for f in missing):
        subject = [i for i, n in enumerate(normalized) if n in SUBJECT.aliases]
        number = [i for i, n in enumerate(normalized) if n in COURSE_NUMBER.aliases]
        if subject and number:
            missing = [f for f in missing if f.name != "course_code"]
            used.update((subject[0], number[0]))
            parsed.warnings.add(
                1,
                "",
                f"no course code column; codes are built from {headers[subject[0]]!r}"
                f" and {headers[number[0]]!r}",
            )
            code = next(c for c in columns if c.spec_field.name == "course_code")
            code.joined = (subject[0], number[0])

    if missing:
        found = ", ".join(repr(h) for h in headers if h.strip()) or "none"
        for spec_field in missing:
            parsed.errors.add(
                1,
                spec_field.label,
                f"missing required column {spec_field.label!r}; headers found: {found}",
            )
        return None

    for i, header in enumerate(headers):
        if i in used or not header.strip():
            continue
        if spec.open_fields:
            name = metadata_field_name(header)
            if keep_fields is None or name in keep_fields:
                _add_open_column(columns, headers, i, name, parsed)
                continue
            parsed.dropped_columns.append(header)
            parsed.warnings.add(
                1, header, f"column {header!r} is not a kept metadata field; dropped"
            )
        else:
            parsed.warnings.add(
                1,
                header,
                f"column {header!r} is not part of the {spec.label} format; ignored",
            )
    return columns


def _add_open_column(
    columns: list[_Column],
    headers: list[str],
    index: int,
    name: str,
    parsed: ParsedFile,
) -> None:
    """Add a free-form column, or make it a fallback of one with its field name.

    Headers such as "Major" and "major" give one field, which stores one value.
    """
    header = headers[index]
    same = next((c for c in columns if c.spec_field.name == name), None)
    if same is None or same.joined is not None:
        columns.append(_Column(Field(name, header, ()), [index]))
        return
    first = headers[same.indexes[0]] if same.indexes else same.spec_field.label
    same.indexes.append(index)
    parsed.warnings.add(
        1,
        header,
        f"column {header!r} is read only where {first!r} is empty, since both "
        f"give the field {name!r}",
    )


def parse_bytes(
    spec: KindSpec,
    data: bytes,
    file_name: str,
    keep_fields: Sequence[str] | None = None,
) -> ParsedFile:
    """Parse ``data`` as a file of kind ``spec``.

    ``keep_fields`` limits which free-form columns an open-fields kind keeps;
    ``None`` keeps them all.
    """
    parsed, text = decode_file(spec, data, file_name)
    if text is None:
        return parsed
    return parse_text(spec, text, file_name, keep_fields, parsed)


def decode_file(
    spec: KindSpec, data: bytes, file_name: str
) -> tuple[ParsedFile, str | None]:
    """Decode ``data``, returning a file with no rows yet and the text.

    The text is ``None`` when the file cannot be read as text; the file then
    contains the error.
    """
    parsed = ParsedFile(spec=spec, file_name=file_name)
    if not data.strip():
        parsed.errors.add(1, "", "the file is empty; expected a header line and rows")
        return parsed, None
    return parsed, decode_bytes(data, parsed.errors, parsed.warnings)


def parse_text(
    spec: KindSpec,
    text: str,
    file_name: str,
    keep_fields: Sequence[str] | None = None,
    parsed: ParsedFile | None = None,
    progress: Progress | None = None,
) -> ParsedFile:
    """Parse the decoded ``text`` of a file; see ``parse_bytes``."""
    if parsed is None:
        parsed = ParsedFile(spec=spec, file_name=file_name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    on_line = None
    if progress is not None:
        report = progress
        total = text.count("\n") + 1

        def on_line(line: int) -> None:
            report(min(1.0, line / total))

    _read_guarded(reader, parsed, keep_fields, on_line=on_line)
    if progress is not None:
        progress(1.0)
    return parsed


def parse_lines(
    spec: KindSpec,
    header: str,
    lines: Sequence[str],
    file_name: str,
    keep_fields: Sequence[str] | None = None,
    warnings: ProblemList | None = None,
) -> ParsedFile:
    """Parse a header line and some row lines of a file, each without its newline.

    The result is ``partial`` and counts lines within ``lines``: line 2 is
    ``lines[0]``. A record spanning lines makes it not ``clean``. ``warnings``
    are copied in first, such as those of decoding the whole file.
    """
    parsed = ParsedFile(spec=spec, file_name=file_name, partial=True)
    if warnings is not None:
        parsed.warnings = warnings.copy()
    reader = csv.reader([header, *lines], strict=True)
    _read_guarded(reader, parsed, keep_fields, need_rows=False)
    return parsed


def _read_guarded(
    reader: csv.Reader,
    parsed: ParsedFile,
    keep_fields: Sequence[str] | None,
    need_rows: bool = True,
    on_line: Callable[[int], None] | None = None,
) -> None:
    try:
        _read_records(reader, parsed, keep_fields, need_rows, on_line)
    except csv.Error as error:
        parsed.clean = False
        parsed.errors.add(
            max(1, reader.line_num),
            "",
            f"the file is not valid CSV here ({error}); check the quoting of this "
            "line: a quote inside a value must be doubled",
        )


def _read_header(reader: csv.Reader, parsed: ParsedFile) -> list[str] | None:
    for record in reader:
        if any(cell.strip() for cell in record):
            if reader.line_num != 1:
                parsed.errors.add(
                    reader.line_num,
                    "",
                    "blank lines before the header; the header must be line 1",
                )
                return None
            while record and not record[-1].strip():
                record.pop()
            return [cell.strip() for cell in record]
    return None


def _read_records(
    reader: csv.Reader,
    parsed: ParsedFile,
    keep_fields: Sequence[str] | None,
    need_rows: bool = True,
    on_line: Callable[[int], None] | None = None,
) -> None:
    headers = _read_header(reader, parsed)
    if headers is None:
        if not parsed.errors:
            parsed.errors.add(1, "", "the file has no header line")
        return
    parsed.headers = headers
    parsed.clean = parsed.clean and reader.line_num == 1
    if len(headers) == 1 and not _check_delimiter(headers[0], parsed):
        return
    columns = _map_columns(headers, parsed, keep_fields)
    if columns is None:
        return

    parsed.fields = tuple(c.spec_field.name for c in columns)
    _read_rows(reader, parsed, headers, columns, on_line)

    if need_rows and not parsed.rows and not parsed.errors:
        parsed.errors.add(
            2, "", "the file has a header but no data rows; nothing to import"
        )


def _with_length_limit(
    spec: KindSpec, spec_field: Field
) -> Callable[[str], str] | None:
    """Return the field's check, also rejecting values longer than its column.

    Each database treats an over-long value its own way (PostgreSQL rejects
    it, SQLite stores it), so the preview rejects it for both.
    """
    check = spec_field.check
    column = spec.model.__table__.c.get(spec_field.name)  # type: ignore[attr-defined]
    limit = getattr(column.type, "length", None) if column is not None else None
    if limit is None:
        return check

    def checked(value: str) -> str:
        if len(value) > limit:
            raise ValueError(
                f"{spec_field.label} is {len(value):,} characters long; at most "
                f"{limit} are kept, so shorten it"
            )
        return check(value) if check is not None else value

    return checked


def _read_rows(
    reader: csv.Reader,
    parsed: ParsedFile,
    headers: list[str],
    columns: list[_Column],
    on_line: Callable[[int], None] | None = None,
) -> None:
    spec = parsed.spec
    errors, warnings = parsed.errors, parsed.warnings
    rows, lines = parsed.rows, parsed.lines
    width = len(headers)
    position = {c.spec_field.name: i for i, c in enumerate(columns)}
    labels = [
        headers[c.indexes[0]] if c.indexes else c.spec_field.label for c in columns
    ]
    key_positions = [position[name] for name in spec.key]
    single_key = key_positions[0] if len(key_positions) == 1 else None
    key_values = itemgetter(*key_positions)
    # Values of columns that repeat across rows, such as course codes and terms,
    # are checked once and then shared: the cache maps a cell to its normal form.
    # Key and unique columns repeat by mistake only, so they are not cached.
    distinct = {
        single_key,
        *(position[name] for name in spec.unique if name in position),
    }
    caches = parsed.value_caches = [
        None if i in distinct else {} for i in range(len(columns))
    ]
    checks = [
        (
            i,
            c.spec_field.required,
            _with_length_limit(spec, c.spec_field),
            c.spec_field.label,
            caches[i],
        )
        for i, c in enumerate(columns)
    ]
    unique = [
        (position[name], columns[position[name]].spec_field.label, {})
        for name in spec.unique
        if name in position and name not in spec.key
    ]
    # A record is padded to one cell past the header, always empty, which is
    # where the columns missing from the file read from.
    simple = all(len(c.indexes) <= 1 and c.joined is None for c in columns)
    cell_indexes = [c.indexes[0] if c.indexes else width for c in columns]
    padded_width = max(cell_indexes) + 1 if simple else width
    getter = itemgetter(*cell_indexes) if simple else None
    one_column = len(columns) == 1

    # TODO: this loop is most of a first import's preview: about 1.1 s CPU for
    # 350,000 enrollment rows, 8 times the bare csv read, where 3 times is the
    # aim (bench/university_bench.py). Next nights parse only changed lines
    # (backend/imports/baseline.py). A column-wise rewrite was no faster in
    # CPython and used 140 MB more; Arrow's CSV reader would need about 0.5 s
    # just to turn its columns into the rows the diff compares.
    warnings_before = warnings.total
    single_lines = True
    previous_end = reader.line_num
    # One comparison per row; with no callback the report line is never met.
    next_report = PROGRESS_EVERY if on_line is not None else sys.maxsize
    for record in reader:
        line = previous_end + 1
        previous_end = reader.line_num
        if previous_end != line:
            single_lines = False
        if line >= next_report:
            on_line(line)  # type: ignore[misc]
            next_report = line + PROGRESS_EVERY
        count = len(record)
        if count < padded_width:
            record = record + [""] * (padded_width - count)
        elif count > width:
            extra = [cell for cell in record[width:] if cell.strip()]
            if extra:
                warnings.add(
                    line,
                    "",
                    f"{len(extra)} value(s) past the last column dropped, first "
                    f"{extra[0]!r}; check for an unquoted comma in this line",
                )

        if getter is None:
            values = [c.value(record) for c in columns]
        elif one_column:
            values = [getter(record).strip()]
        else:
            values = list(map(str.strip, getter(record)))
        if not any(values):
            if any(cell.strip() for cell in record):
                warnings.add(line, "", "line has values only in ignored columns")
            continue

        valid = True
        for i, required, check, label, cache in checks:
            value = values[i]
            if cache is not None:
                # One lookup: most cells of a cached column are hits.
                try:
                    values[i] = cache[value]
                    continue
                except KeyError:
                    pass
            if not value:
                if required:
                    errors.add(line, labels[i], f"empty required value {label!r}")
                    valid = False
                continue
            if check is not None:
                try:
                    values[i] = check(value)
                except ValueError as error:
                    errors.add(line, labels[i], str(error))
                    valid = False
                    continue
            if cache is not None:
                cache[value] = values[i]
        if not valid:
            continue

        if single_key is not None:
            key = values[single_key]
        else:
            key = "|".join(key_values(values))
            if len(key) > MAX_KEY_LENGTH:
                named = " and ".join(labels[i] for i in key_positions)
                errors.add(
                    line,
                    "",
                    f"{named} together make a key of {len(key):,} characters; at "
                    f"most {MAX_KEY_LENGTH} are kept, so shorten them",
                )
                continue
        if key in rows:
            errors.add(
                line,
                labels[key_positions[0]],
                f"duplicate row for {key!r}: also on line {lines[key]}",
            )
            continue
        for i, label, seen in unique:
            value = values[i]
            if not value:
                continue
            if value in seen:
                errors.add(
                    line,
                    labels[i],
                    f"duplicate {label} {value!r}: also on line {seen[value]}; "
                    "each identifies one student",
                )
                valid = False
            else:
                seen[value] = line
        if valid:
            rows[key] = tuple(values)
            lines[key] = line
    parsed.clean = parsed.clean and single_lines and warnings.total == warnings_before
