"""Plain-text reports of SSO state and test logins, shared by the CLI and console."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.models import SsoConfig, SsoTestResponse
from backend.sso.logins import TestLoginResult
from backend.sso.metadata import IdpPreview


def idp_lines(preview: IdpPreview, now: datetime | None = None) -> list[str]:
    """Describe an IdP metadata preview: entity ID, endpoints, certificates."""
    now = now or datetime.now(UTC)
    lines = [f"IdP entity ID: {preview.entity_id}"]
    for binding, location in preview.sign_on:
        lines.append(f"sign-on: {location} ({binding.rpartition(':')[2]})")
    for cert in preview.certificates:
        lines.append(
            f"signing certificate {cert.fingerprint}, expires "
            f"{cert.not_after:%Y-%m-%d} ({cert.status(now)}), {cert.subject}"
        )
    lines += [f"error: {text}" for text in preview.errors]
    lines += [f"warning: {text}" for text in preview.warnings]
    return lines


def config_lines(config: SsoConfig, entity_id: str, acs_url: str) -> list[str]:
    """Describe a school's SP settings and attribute mapping."""
    domains = ", ".join(config.email_domains or []) or "none"
    return [
        f"SP entity ID: {entity_id}",
        f"ACS URL: {acs_url}",
        f"SP key file: {config.key_path}",
        f"NameID format: {config.name_id_format}",
        f"username attribute: {config.username_attribute}",
        f"email attribute: {config.email_attribute}",
        f"student ID attribute: {config.student_id_attribute or 'not mapped'}",
        f"email domains sent to SSO: {domains}",
        "IdP-initiated login: " + ("on" if config.allow_idp_initiated else "off"),
        f"clock skew allowance: {config.clock_skew_seconds} s",
    ]


def result_lines(result: TestLoginResult) -> list[str]:
    """Describe a test login: outcome, NameID, every attribute and the student."""
    lines = [("accepted: " if result.accepted else "rejected: ") + result.message]
    login = result.login
    if login is None:
        return lines
    lines.append(f"NameID: {login.name_id} ({login.name_id_format or 'no format'})")
    for attribute in login.attributes:
        friendly = f" ({attribute.friendly_name})" if attribute.friendly_name else ""
        lines.append(
            f"attribute {attribute.name}{friendly}: {', '.join(attribute.values)}"
        )
    if result.accepted:
        lines.append(
            f"mapped: username {result.username}, email {result.email}, "
            f"student ID {result.student_id or '-'}"
        )
    for match in result.students:
        lines.append(
            f"student: {match.name or match.student_key} in {match.community_slug} "
            f"(matched on {match.matched_on})"
        )
    lines += [f"warning: {text}" for text in login.warnings]
    return lines


def kept_response_lines(row: SsoTestResponse) -> list[str]:
    """Describe a kept test-login response, with its decoded XML."""
    outcome = "accepted" if row.accepted else f"rejected: {row.failure}"
    lines = [
        f"response {row.id}, {row.received_at:%Y-%m-%d %H:%M:%S} UTC, via {row.via}",
        outcome,
        f"NameID: {row.name_id or '-'}",
    ]
    for attribute in row.detail.get("attributes", []):
        friendly = attribute.get("friendly_name") or ""
        label = f" ({friendly})" if friendly else ""
        values = ", ".join(attribute.get("values", []))
        lines.append(f"attribute {attribute.get('name')}{label}: {values}")
    lines.append(row.xml)
    return lines
