"""Commands for Canvas, provider certifications, student metadata and reports."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from penji_tui.commands import open_db


def register(commands: Any) -> None:
    _register_canvas(commands)
    _register_certifications(commands)
    _register_metadata(commands)
    _register_report(commands)


def _register_canvas(commands: Any) -> None:
    canvas = commands.add_parser(
        "canvas", help="Canvas placement settings and the LTI 1.3 developer key"
    )
    actions = canvas.add_subparsers(dest="action", required=True, metavar="ACTION")

    config = actions.add_parser(
        "config", help="print the developer-key JSON for the school's Canvas admin"
    )
    config.add_argument("community", metavar="COMMUNITY_SLUG")
    config.add_argument(
        "--steps", action="store_true", help="print the admin's steps after the JSON"
    )
    config.add_argument(
        "-o", "--output", metavar="FILE", help="write the JSON to FILE instead"
    )
    config.set_defaults(handler=canvas_config)

    show = actions.add_parser("show", help="show a community's Canvas settings")
    show.add_argument("community", metavar="COMMUNITY_SLUG")
    show.set_defaults(handler=canvas_show)

    change = actions.add_parser(
        "set",
        help="change settings: placement=global|course|both, "
        "course_default=enabled|disabled, open_in=canvas|new_tab, "
        "privacy_level=public|name_only|email_only|anonymous, "
        "environment=production|beta|test, title=TEXT, "
        "base_url_production|base_url_beta|base_url_test=URL",
    )
    change.add_argument("community", metavar="COMMUNITY_SLUG")
    change.add_argument("settings", metavar="NAME=VALUE", nargs="+")
    change.set_defaults(handler=canvas_set)

    ids = actions.add_parser(
        "ids", help="record the client ID and deployment IDs the school sent"
    )
    ids.add_argument("community", metavar="COMMUNITY_SLUG")
    ids.add_argument("--client-id", help="the developer key's client ID (digits)")
    ids.add_argument(
        "--deployment-id",
        action="append",
        metavar="ID",
        help="a deployment ID such as 5:d3a2…; repeat for several; replaces the list",
    )
    ids.set_defaults(handler=canvas_ids)


def _register_certifications(commands: Any) -> None:
    parser = commands.add_parser(
        "coverage", help="which providers cover which courses, and stale certifications"
    )
    parser.add_argument("community", metavar="COMMUNITY_SLUG")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--course", metavar="CODE", help="providers covering CODE")
    which.add_argument("--provider", metavar="EMAIL", help="courses EMAIL covers")
    which.add_argument(
        "--stale", action="store_true", help="only certifications matching no course"
    )
    parser.set_defaults(handler=coverage)


def _register_metadata(commands: Any) -> None:
    parser = commands.add_parser(
        "metadata", help="student metadata fields to keep, and a student's metadata"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    fields = actions.add_parser(
        "fields", help="list the fields IT sends and which are kept, or set them"
    )
    fields.add_argument("community", metavar="COMMUNITY_SLUG")
    fields.add_argument(
        "--keep",
        metavar="FIELDS",
        help="comma-separated headers or field names to keep; '' keeps every column",
    )
    fields.set_defaults(handler=metadata_fields)
    show = actions.add_parser("show", help="show one student's metadata")
    show.add_argument("community", metavar="COMMUNITY_SLUG")
    show.add_argument("student", metavar="EMAIL_OR_ID")
    show.set_defaults(handler=metadata_show)


def _register_report(commands: Any) -> None:
    parser = commands.add_parser("report", help="reports on course grades")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = actions.add_parser(
        "engagement", help="tutoring use by GPA band for one term"
    )
    report.add_argument("community", metavar="COMMUNITY_SLUG")
    report.add_argument(
        "--term",
        help="the grades term, such as 2026SP (default: the last term imported)",
    )
    report.add_argument(
        "--from",
        dest="since",
        metavar="DATE",
        help="count sessions and check-ins from DATE (YYYY-MM-DD, UTC)",
    )
    report.add_argument(
        "--to",
        dest="until",
        metavar="DATE",
        help="count sessions and check-ins before DATE (YYYY-MM-DD, UTC)",
    )
    report.add_argument("--csv", metavar="FILE", help="write the report as CSV to FILE")
    report.set_defaults(handler=report_engagement)


def _parse_setting(text: str) -> tuple[str, str]:
    from backend.errors import InvalidValue

    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise InvalidValue(f"invalid setting {text!r}; write NAME=VALUE")
    return name.strip(), value.strip()


def canvas_config(args: argparse.Namespace) -> int:
    from backend.services import canvas
    from backend.services.schools import get_community

    with open_db(args)() as session:
        settings = canvas.load_settings(session, get_community(session, args.community))
    text = json.dumps(canvas.developer_key_json(settings), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote the developer-key JSON to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.steps:
        for number, step in enumerate(canvas.admin_steps(settings), 1):
            print(f"{number}. {step}", file=sys.stderr)
    return 0


def _print_canvas(settings: Any) -> None:
    facts = settings.facts
    rows = [
        ("placement", settings.placement),
        ("course_default", settings.course_default),
        ("open_in", settings.open_in),
        ("privacy_level", settings.privacy_level),
        ("environment", settings.environment),
        ("title", settings.title),
        ("issuer", facts.issuer),
        ("authorization_endpoint", facts.authorization_endpoint),
        ("jwks_url", facts.jwks_url),
        ("oidc_initiation_url", settings.oidc_initiation_url),
        ("target_link_uri", settings.target_link_uri),
        ("public_jwk_url", settings.public_jwk_url),
        ("client_id", settings.client_id or "(not recorded)"),
        ("deployment_ids", ", ".join(settings.deployment_ids) or "(none recorded)"),
    ]
    for name, value in rows:
        print(f"{name:<24}{value}")


def canvas_show(args: argparse.Namespace) -> int:
    from backend.services import canvas
    from backend.services.schools import get_community

    with open_db(args)() as session:
        settings = canvas.load_settings(session, get_community(session, args.community))
    _print_canvas(settings)
    return 0


def canvas_set(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.services import canvas
    from backend.services.schools import get_community

    changes = dict(_parse_setting(text) for text in args.settings)
    with transaction(open_db(args)) as session:
        community = get_community(session, args.community)
        settings = canvas.update_settings(session, community, changes)
    _print_canvas(settings)
    return 0


def canvas_ids(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.errors import InvalidValue
    from backend.services import canvas
    from backend.services.schools import get_community

    if args.client_id is None and args.deployment_id is None:
        raise InvalidValue("give --client-id, --deployment-id or both")
    with transaction(open_db(args)) as session:
        community = get_community(session, args.community)
        settings = canvas.record_ids(
            session, community, args.client_id, args.deployment_id
        )
    print(f"client_id       {settings.client_id or '(not recorded)'}")
    print(f"deployment_ids  {', '.join(settings.deployment_ids) or '(none)'}")
    return 0


def coverage(args: argparse.Namespace) -> int:
    from backend.errors import NotFound
    from backend.services.certifications import community_coverage
    from backend.services.schools import get_community

    with open_db(args)() as session:
        result = community_coverage(session, get_community(session, args.community))
    if args.course:
        if args.course not in result.by_course:
            raise NotFound(f"course {args.course!r} is not in the current course list")
        for email in result.by_course[args.course]:
            print(email)
        return 0
    if args.provider:
        email = args.provider.lower()
        if email not in result.by_provider:
            raise NotFound(f"no active provider {args.provider!r} in this community")
        print("certified: " + " | ".join(result.patterns[email]))
        for code in result.by_provider[email]:
            print(code)
        return 0
    if not args.stale:
        for code, emails in result.by_course.items():
            print(f"{code}\t{len(emails)}\t{', '.join(emails)}")
    for stale in result.stale:
        suggestions = ", ".join(stale.suggestions) or "no close course"
        print(f"stale\t{stale.provider_email}\t{stale.pattern}\ttry: {suggestions}")
    return 0


def metadata_fields(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.services import metadata
    from backend.services.schools import get_community

    with transaction(open_db(args)) as session:
        community = get_community(session, args.community)
        if args.keep is not None:
            names = [name for name in args.keep.split(",") if name.strip()]
            metadata.set_kept_fields(session, community, names)
        kept = metadata.kept_fields(session, community)
        available = metadata.available_fields(session, community)
    for name in sorted(set(available) | set(kept)):
        state = "kept" if not kept or name in kept else "dropped"
        print(f"{name:<28}{state}")
    if not kept:
        print("every column is kept; choose fields with --keep", file=sys.stderr)
    return 0


def metadata_show(args: argparse.Namespace) -> int:
    from backend.services import metadata
    from backend.services.schools import get_community

    with open_db(args)() as session:
        community = get_community(session, args.community)
        student = metadata.find_student(session, community, args.student)
        shown = metadata.student_profile_metadata(session, community, student)
    for label, value in shown.fields:
        print(f"{label:<28}{value}")
    print(f"{'Enrolled Courses':<28}{shown.enrolled_courses or '(none)'}")
    return 0


def _parse_date(text: str | None) -> datetime | None:
    from backend.errors import InvalidValue

    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidValue(f"invalid date {text!r}; write YYYY-MM-DD") from None


def report_engagement(args: argparse.Namespace) -> int:
    from backend.errors import InvalidValue
    from backend.services import engagement
    from backend.services.schools import get_community

    since, until = _parse_date(args.since), _parse_date(args.until)
    with open_db(args)() as session:
        community = get_community(session, args.community)
        term = args.term
        if term is None:
            term = engagement.latest_term(session, community)
            if term is None:
                raise InvalidValue(
                    f"community {community.slug!r} has no course grades; import "
                    "them first"
                )
        result = engagement.engagement_by_gpa(session, community, term, since, until)
    text = engagement.report_csv(result)
    if args.csv:
        Path(args.csv).write_text(text, encoding="utf-8", newline="")
        print(f"wrote the report to {args.csv}", file=sys.stderr)
        return 0
    print(f"Engagement by GPA, {result.community_slug}, term {result.term}")
    print(
        f"{'GPA':<9}{'students':>9}{'used':>7}{'%':>7}{'sessions':>10}"
        f"{'check-ins':>11}{'per user':>10}"
    )
    for band in result.bands:
        print(
            f"{band.label:<9}{band.students:>9}{band.users:>7}"
            f"{band.used_percent:>6.1f}%{band.sessions:>10}{band.check_ins:>11}"
            f"{band.visits_per_user:>10.2f}"
        )
    if result.ungraded_users:
        print(f"{result.ungraded_users} tutoring users have no grades this term")
    return 0
