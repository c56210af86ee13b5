"""Provider certifications resolved against a community's current course list.

A certification is a course code (``MATH1301``), a prefix wildcard ending in
``*`` (``BIOL110*`` covers ``BIOL110-Smith``) or ``*`` alone for every course.
A certification that covers no current course is stale: it usually means the
course list changed, for instance when the Courses integration was turned on
and the codes were renamed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.formats.values import split_certifications
from backend.imports.references import active_course_codes
from backend.models import Community, Provider

MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class StaleCertification:
    """A certification of one provider that matches no current course."""

    provider_email: str
    pattern: str
    suggestions: tuple[str, ...]


@dataclass
class Coverage:
    """Which providers cover which courses in one community.

    ``by_course`` maps every current course code to the emails of the providers
    certified in it, and an uncovered course maps to an empty list.
    ``by_provider`` maps each provider's email to the codes they cover.
    """

    by_course: dict[str, list[str]] = field(default_factory=dict)
    by_provider: dict[str, list[str]] = field(default_factory=dict)
    patterns: dict[str, list[str]] = field(default_factory=dict)
    stale: list[StaleCertification] = field(default_factory=list)

    @property
    def uncovered_courses(self) -> list[str]:
        return [code for code, emails in self.by_course.items() if not emails]


def resolve_pattern(pattern: str, codes: list[str]) -> list[str]:
    """Return the codes among ``codes`` that one certification covers, in order.

    Matching is exact and case-sensitive, as course codes are stored; only a
    trailing ``*`` widens a certification to a prefix.
    """
    if pattern == "*":
        return list(codes)
    if pattern.endswith("*"):
        prefix = pattern[:-1]
        return [code for code in codes if code.startswith(prefix)]
    return [code for code in codes if code == pattern]


def resolve_certifications(value: str, codes: list[str]) -> list[str]:
    """Return the codes a provider's ``|``-separated course list covers, once each."""
    covered: dict[str, None] = {}
    for pattern in split_certifications(value):
        for code in resolve_pattern(pattern, codes):
            covered[code] = None
    return list(covered)


def suggest_codes(pattern: str, codes: list[str]) -> tuple[str, ...]:
    """Suggest the current codes closest to a stale certification, best first.

    Codes that extend the certification win, so ``MATH1301`` suggests
    ``MATH1301-Lim`` after sections were added. Otherwise near spellings are
    suggested, compared case-insensitively and, for a wildcard, on the prefix.
    """
    stem = pattern.rstrip("*").lower()
    if not stem:
        return ()
    extended = [code for code in codes if code.lower().startswith(stem)]
    if extended:
        return tuple(extended[:MAX_SUGGESTIONS])

    compared: dict[str, str] = {}
    for code in codes:
        text = code.lower()[: len(stem)] if pattern.endswith("*") else code.lower()
        compared.setdefault(text, code)
    close = difflib.get_close_matches(
        stem, list(compared), n=MAX_SUGGESTIONS, cutoff=0.6
    )
    return tuple(compared[text] for text in close)


def community_coverage(session: Session, community: Community) -> Coverage:
    """Resolve the certifications of the community's active providers."""
    codes = sorted(active_course_codes(session, community.id))
    providers = session.scalars(
        select(Provider)
        .where(Provider.community_id == community.id, Provider.active.is_(True))
        .order_by(Provider.email)
    )
    coverage = Coverage(by_course={code: [] for code in codes})
    for provider in providers:
        patterns = split_certifications(provider.courses)
        covered: dict[str, None] = {}
        for pattern in patterns:
            matched = resolve_pattern(pattern, codes)
            if not matched:
                coverage.stale.append(
                    StaleCertification(
                        provider.email, pattern, suggest_codes(pattern, codes)
                    )
                )
            covered.update(dict.fromkeys(matched))
        coverage.patterns[provider.email] = patterns
        coverage.by_provider[provider.email] = list(covered)
        for code in covered:
            if provider.email not in coverage.by_course[code]:
                coverage.by_course[code].append(provider.email)
    return coverage
