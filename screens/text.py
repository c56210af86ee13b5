"""Wording helpers shared by the screens."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return the count and the noun, singular for 1: "1 school", "2 schools"."""
    if count == 1:
        return f"1 {singular}"
    if plural_form is None:
        if singular.endswith("y") and singular[-2:-1] not in "aeiou":
            plural_form = singular[:-1] + "ies"
        else:
            plural_form = singular + "s"
    return f"{count:,} {plural_form}"
