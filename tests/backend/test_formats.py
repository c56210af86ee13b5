"""Reading import files: headers, encodings, quoting and every kind of bad input."""

from __future__ import annotations

import codecs

import pytest

from backend.formats.kinds import KINDS
from backend.formats.parse import ParsedFile, parse_bytes

VALID_FILES = {
    "students": (
        "Email,First Name,Last Name,SSO ID,Student ID\n"
        "ana@uni.edu,Ana,Lopez,alopez,00123\n"
        "bo@uni.edu,Bo,Kim,bkim,00124\n"
    ),
    "courses": "Course Code,Course Name,Term\nCHEM1301,Chemistry I,2026FA\n"
    "BIOL110-Smith,Biology,2026FA\n",
    "course_enrollment": "Student ID,Course Code,Term,Meeting Days,Meeting Time\n"
    "00123,CHEM1301,2026FA,MWF,8-9\n00123,BIOL110-Smith,2026FA,TTH,11:15-1\n",
    "student_metadata": "Student ID,Year in School,Major\n00123,Junior,Biology\n"
    "00124,Senior,History\n",
    "course_grades": "Student ID,Course Code,Term,Grade,Grade Points\n"
    "00123,CHEM1301,2026SP,A-,3.7\n00124,CHEM1301,2026SP,B,3.0\n",
    "providers": "Email,First Name,Last Name,SSO ID,Courses\n"
    "tutor@uni.edu,Tia,Ng,tng,CHEM*|MATH1301\n",
}
REQUIRED_COLUMN = {
    "students": "Email",
    "courses": "Course Code",
    "course_enrollment": "Course Code",
    "student_metadata": "Student ID or Email",
    "course_grades": "Grade",
    "providers": "Courses",
}


def parse(kind: str, text: str | bytes, keep: list[str] | None = None) -> ParsedFile:
    data = text.encode() if isinstance(text, str) else text
    return parse_bytes(KINDS[kind], data, f"{kind}.csv", keep)


def messages(parsed: ParsedFile, which: str = "errors") -> list[str]:
    return [p.message for p in getattr(parsed, which).items]


@pytest.mark.parametrize("kind", sorted(VALID_FILES))
def test_valid_file_parses(kind: str) -> None:
    parsed = parse(kind, VALID_FILES[kind])
    assert parsed.ok, messages(parsed)
    assert len(parsed.rows) == VALID_FILES[kind].count("\n") - 1


@pytest.mark.parametrize("kind", sorted(VALID_FILES))
def test_missing_required_column_names_headers(kind: str) -> None:
    header, *rows = VALID_FILES[kind].splitlines()
    column = REQUIRED_COLUMN[kind]
    drop = [h for h in header.split(",") if h in column or column.startswith(h)]
    assert drop, f"test data lacks {column}"
    kept = [i for i, h in enumerate(header.split(",")) if h not in drop]
    lines = [",".join(line.split(",")[i] for i in kept) for line in (header, *rows)]
    parsed = parse(kind, "\n".join(lines) + "\n")
    assert not parsed.ok
    problem = parsed.errors.items[0]
    assert problem.line == 1
    assert f"missing required column {column!r}" in problem.message
    assert "headers found:" in problem.message


@pytest.mark.parametrize("kind", sorted(VALID_FILES))
def test_header_only_file_is_rejected(kind: str) -> None:
    header = VALID_FILES[kind].splitlines()[0]
    parsed = parse(kind, header + "\n")
    assert messages(parsed) == [
        "the file has a header but no data rows; nothing to import"
    ]


@pytest.mark.parametrize("kind", sorted(VALID_FILES))
def test_empty_file_is_rejected(kind: str) -> None:
    parsed = parse(kind, b"  \r\n")
    assert "the file is empty" in messages(parsed)[0]


@pytest.mark.parametrize("kind", sorted(VALID_FILES))
def test_duplicate_key_names_both_lines(kind: str) -> None:
    header, first, *_ = VALID_FILES[kind].splitlines()
    parsed = parse(kind, f"{header}\n{first}\n{first}\n")
    problem = parsed.errors.items[0]
    assert problem.line == 3
    assert "also on line 2" in problem.message


@pytest.mark.parametrize("kind", sorted(VALID_FILES))
def test_semicolon_delimiter_is_rejected(kind: str) -> None:
    parsed = parse(kind, VALID_FILES[kind].replace(",", ";"))
    assert "separated by semicolons, not commas" in messages(parsed)[0]


@pytest.mark.parametrize("kind", sorted(VALID_FILES))
def test_crlf_bom_and_header_spelling(kind: str) -> None:
    header, *rows = VALID_FILES[kind].splitlines()
    header = ",".join(f" {h.upper().replace(' ', '_')} " for h in header.split(","))
    text = "\r\n".join([header, *rows]) + "\r\n"
    parsed = parse(kind, codecs.BOM_UTF8 + text.encode())
    assert parsed.ok, messages(parsed)
    assert parsed.rows == parse(kind, VALID_FILES[kind]).rows


def test_binary_file_is_not_csv() -> None:
    parsed = parse("students", b"PK\x03\x04\x14\x00\x00\x00 zipped spreadsheet")
    assert "not a CSV text file" in messages(parsed)[0]


def test_html_file_lists_headers_found() -> None:
    parsed = parse("students", "<html><body>Login</body></html>\n")
    assert "missing required column 'Email'" in messages(parsed)[0]


def test_leading_zeros_kept() -> None:
    parsed = parse("students", "Email,Student ID\nana@uni.edu,000042\n")
    assert parsed.rows["ana@uni.edu"][-1] == "000042"


@pytest.mark.parametrize("mangled", ["1.23457E+11", "1.2E11", "123456.0"])
def test_spreadsheet_mangled_id_is_rejected(mangled: str) -> None:
    parsed = parse("students", f"Email,Student ID\nana@uni.edu,{mangled}\n")
    problem = parsed.errors.items[0]
    assert problem.line == 2
    assert problem.column == "Student ID"
    assert "format the column as Text" in problem.message


def test_invalid_email_names_line_and_column() -> None:
    parsed = parse("students", "First Name,Email\nAna,ana@uni.edu\nBo,bo.uni.edu\n")
    problem = parsed.errors.items[0]
    assert (problem.line, problem.column) == (3, "Email")
    assert problem.message == "invalid email address 'bo.uni.edu'"


def test_emails_compare_case_insensitively() -> None:
    parsed = parse("students", "Email\nAna@Uni.EDU\nana@uni.edu\n")
    assert "duplicate row for 'ana@uni.edu': also on line 2" in messages(parsed)[0]


@pytest.mark.parametrize("column", ["SSO ID", "Student ID"])
def test_duplicate_identifier_in_other_column(column: str) -> None:
    text = f"Email,{column}\na@uni.edu,X1\nb@uni.edu,X1\n"
    problem = parse("students", text).errors.items[0]
    assert problem.line == 3
    assert f"duplicate {column} 'X1': also on line 2" in problem.message


def test_empty_required_value() -> None:
    text = "Email,Courses\ntutor@uni.edu,\n"
    problem = parse("providers", text).errors.items[0]
    assert (problem.line, problem.column) == (2, "Courses")
    assert problem.message == "empty required value 'Courses'"


def test_quoted_commas_quotes_and_line_breaks() -> None:
    text = (
        "Email,First Name,Last Name\n"
        'ana@uni.edu,"Ana, Maria","O""Neil"\n'
        'bo@uni.edu,"Bo\nBo",Kim\n'
        "bad@uni,x,y\n"
    )
    parsed = parse("students", text)
    assert parsed.rows["ana@uni.edu"][1:3] == ("Ana, Maria", 'O"Neil')
    assert parsed.rows["bo@uni.edu"][1] == "Bo\nBo"
    assert parsed.errors.items[0].line == 5


def test_broken_quoting_names_line() -> None:
    parsed = parse("students", 'Email,First Name\nana@uni.edu,"Ana" x\n')
    problem = parsed.errors.items[0]
    assert problem.line == 2
    assert "not valid CSV" in problem.message


def test_spreadsheet_padding_is_ignored() -> None:
    text = "Email,First Name,,\n  ana@uni.edu , Ana ,,\n,,,\n\nbo@uni.edu,Bo,,\n"
    parsed = parse("students", text)
    assert parsed.ok
    assert list(parsed.rows) == ["ana@uni.edu", "bo@uni.edu"]
    assert parsed.rows["ana@uni.edu"][1] == "Ana"
    assert not parsed.warnings


def test_value_past_last_column_warns() -> None:
    parsed = parse("students", "Email,First Name\nana@uni.edu,Ana,Maria\n")
    assert parsed.ok
    warning = parsed.warnings.items[0]
    assert warning.line == 2
    assert "past the last column dropped" in warning.message


def test_cp1252_is_decoded_with_warning() -> None:
    data = "Email,First Name\nana@uni.edu,Ren\u00e9e\n".encode("cp1252")
    parsed = parse("students", data)
    assert parsed.rows["ana@uni.edu"][1] == "Ren\u00e9e"
    warning = parsed.warnings.items[0]
    assert warning.line == 2
    assert "decoded as Windows-1252" in warning.message


def test_undecodable_bytes_are_rejected_with_position() -> None:
    data = b"Email,First Name\nana@uni.edu,R\x81e\n"
    problem = parse("students", data).errors.items[0]
    assert problem.line == 2
    assert "byte 0x81 at byte 14" in problem.message


def test_utf16_file_is_decoded() -> None:
    data = "Email,First Name\r\nana@uni.edu,Zo\u00eb\r\n".encode("utf-16")
    parsed = parse("students", data)
    assert parsed.rows["ana@uni.edu"][1] == "Zo\u00eb"
    assert "UTF-16" in messages(parsed, "warnings")[0]


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("CHEM1301", True),
        ("BIOL110-Smith", True),
        ("CHEM 1301", False),
        ("MATH|101", False),
        ("BIOL*", False),
    ],
)
def test_course_code_rules(code: str, ok: bool) -> None:
    parsed = parse("courses", f"Course Code\n{code}\n")
    assert parsed.ok is ok


def test_course_code_with_space_suggests_fix() -> None:
    parsed = parse("courses", "Course Code\nCHEM 1301\n")
    assert "write it as 'CHEM1301'" in messages(parsed)[0]


def test_course_code_built_from_subject_and_number() -> None:
    parsed = parse("courses", "Subject,Course Number,Title\nCHEM,1301,Chemistry\n")
    assert list(parsed.rows) == ["CHEM1301"]


@pytest.mark.parametrize(
    ("courses", "stored"),
    [
        ("CHEM*|MATH1301", "CHEM*|MATH1301"),
        ("BIOL110*|", "BIOL110*"),
        ("*", "*"),
        (" BIOL110-Smith | BIOL110-Lim ", "BIOL110-Smith|BIOL110-Lim"),
    ],
)
def test_certification_lists(courses: str, stored: str) -> None:
    parsed = parse("providers", f'Email,Courses\nt@uni.edu,"{courses}"\n')
    assert parsed.rows["t@uni.edu"][-1] == stored


@pytest.mark.parametrize("courses", ["CH*EM", "|", "BIOL 110"])
def test_invalid_certifications(courses: str) -> None:
    parsed = parse("providers", f"Email,Courses\nt@uni.edu,{courses}\n")
    assert not parsed.ok


def test_enrollment_falls_back_to_email() -> None:
    text = (
        "Student ID,Email,Course Code\n00123,a@uni.edu,CHEM1301\n,B@uni.edu,CHEM1301\n"
    )
    parsed = parse("course_enrollment", text)
    assert set(parsed.rows) == {"00123|CHEM1301", "b@uni.edu|CHEM1301"}
    assert "read only where 'Student ID' is empty" in messages(parsed, "warnings")[0]


def test_metadata_keeps_selected_fields() -> None:
    text = "Student ID,Major,Holds,Advisor\n00123,Biology,None,Dr. Wu\n"
    parsed = parse("student_metadata", text, keep=["major", "advisor"])
    assert parsed.fields == ("student_key", "major", "advisor")
    assert parsed.dropped_columns == ["Holds"]
    assert "'Holds' is not a kept metadata field" in messages(parsed, "warnings")[0]


def test_unknown_column_warns() -> None:
    parsed = parse("courses", "Course Code,Room\nCHEM1301,B12\n")
    assert (
        "column 'Room' is not part of the Courses format"
        in messages(parsed, "warnings")[0]
    )


def test_grade_points_checked() -> None:
    text = "Student ID,Course Code,Term,Grade,Grade Points\n1,CHEM1,2026SP,A,9.5\n"
    problem = parse("course_grades", text).errors.items[0]
    assert problem.column == "Grade Points"


def test_errors_are_capped_and_counted() -> None:
    rows = "".join(f"bad{i}\n" for i in range(800))
    parsed = parse("students", "Email\n" + rows)
    assert parsed.errors.total == 800
    assert len(parsed.errors.items) == 500
    assert parsed.errors.omitted == 300
