"""Turn the bytes of an import file into text without garbling it silently.

Rule: UTF-8, with or without a byte-order mark, is read as it is. A file with a
UTF-16 byte-order mark (Excel's "Unicode Text") is decoded as UTF-16 with a
warning. Any other file that is not valid UTF-8 is decoded as Windows-1252
(cp1252), the encoding Excel uses on Windows in the Americas and western Europe.
A warning then names the first byte that was not UTF-8. A file with a byte that
cp1252 leaves undefined is rejected instead, with that byte's line and position.
"""

from __future__ import annotations

import codecs

from backend.formats.problems import ProblemList

CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    line_start = data.rfind(b"\n", 0, offset) + 1
    return line, offset - line_start + 1


def decode_bytes(data: bytes, errors: ProblemList, warnings: ProblemList) -> str | None:
    """Return the text of ``data``, or ``None`` after adding an error."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        warnings.add(0, "", "file is UTF-16 (Excel Unicode Text); decoded as UTF-16")
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            line = data[: error.start].decode("utf-16", "replace").count("\n") + 1
            errors.add(
                line, "", f"invalid UTF-16 at byte {error.start + 1} of the file"
            )
            return None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]

    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _position(data, nul)
        errors.add(
            line,
            "",
            f"file is not a CSV text file: it contains a NUL byte at byte {column} "
            "(a spreadsheet or other binary file?); export it as CSV UTF-8",
        )
        return None

    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        first_bad = error.start

    undefined = next((i for i, b in enumerate(data) if b in CP1252_UNDEFINED), None)
    if undefined is not None:
        line, column = _position(data, undefined)
        errors.add(
            line,
            "",
            f"file is neither UTF-8 nor Windows-1252: byte 0x{data[undefined]:02X} at "
            f"byte {column} of the line; save the file as CSV UTF-8 and import again",
        )
        return None
    line, column = _position(data, first_bad)
    warnings.add(
        line,
        "",
        f"file is not UTF-8 (byte 0x{data[first_bad]:02X} at byte {column} of the "
        "line); decoded as Windows-1252. Check accented names in the preview",
    )
    return data.decode("cp1252")
