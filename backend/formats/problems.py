"""Errors and warnings found in an import file, each pinned to a line and column."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MAX_REPORTED = 500


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning. ``line`` counts the header as line 1.

    Every error names a line. A warning about the whole file has line 0.

    ``column`` is the header name as written in the file, or empty when the
    problem concerns a whole line or the whole file.
    """

    line: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self, file_name: str) -> str:
        """Format as ``file:line: column: message`` for terminals and logs."""
        where = f"{file_name}:{self.line}" if self.line else file_name
        if self.column:
            return f"{where}: column {self.column!r}: {self.message}"
        return f"{where}: {self.message}"


class ProblemList:
    """Collects problems, keeping the first ``MAX_REPORTED`` and counting the rest."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.total = 0

    def add(self, line: int, column: str, message: str) -> None:
        self.total += 1
        if len(self.items) < MAX_REPORTED:
            self.items.append(Problem(line, column, message))

    def copy(self) -> ProblemList:
        other = ProblemList()
        other.items = list(self.items)
        other.total = self.total
        return other

    def __bool__(self) -> bool:
        return self.total > 0

    @property
    def omitted(self) -> int:
        return self.total - len(self.items)
