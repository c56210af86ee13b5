"""Commands for schools, communities and integrations."""

from __future__ import annotations

import argparse
from typing import Any

from penji_tui.commands import open_db

ON_OFF = {"on": True, "off": False}


def register(commands: Any) -> None:
    school = commands.add_parser("school", help="add or list schools")
    school_commands = school.add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = school_commands.add_parser("add", help="add a school")
    add.add_argument("slug", metavar="SLUG")
    add.add_argument("--name", required=True, help="the school's full name")
    add.set_defaults(handler=school_add)
    listing = school_commands.add_parser("list", help="list schools")
    listing.set_defaults(handler=school_list)

    community = commands.add_parser("community", help="add, list or change communities")
    community_commands = community.add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = community_commands.add_parser("add", help="add a community to a school")
    add.add_argument("school", metavar="SCHOOL_SLUG")
    add.add_argument("slug", metavar="SLUG")
    add.add_argument("--name", required=True, help="the community's display name")
    add.set_defaults(handler=community_add)
    listing = community_commands.add_parser("list", help="list communities")
    listing.add_argument("school", metavar="SCHOOL_SLUG", nargs="?")
    listing.set_defaults(handler=community_list)
    change = community_commands.add_parser(
        "set", help="change settings, such as remove_guard_percent=5"
    )
    change.add_argument("slug", metavar="COMMUNITY_SLUG")
    change.add_argument("settings", metavar="NAME=VALUE", nargs="+")
    change.set_defaults(handler=community_set)

    integration = commands.add_parser(
        "integration", help="switch integrations on or off"
    )
    integration_commands = integration.add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    switch = integration_commands.add_parser(
        "set", help="switch one integration of one community"
    )
    switch.add_argument("community", metavar="COMMUNITY_SLUG")
    switch.add_argument("kind", metavar="KIND")
    switch.add_argument("state", choices=sorted(ON_OFF), metavar="on|off")
    switch.set_defaults(handler=integration_set)
    show = integration_commands.add_parser(
        "show", help="show a community's integrations"
    )
    show.add_argument("community", metavar="COMMUNITY_SLUG")
    show.set_defaults(handler=integration_show)


def school_add(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.services.schools import add_school

    with transaction(open_db(args)) as session:
        school = add_school(session, args.slug, args.name)
        print(f"added school {school.slug} ({school.name})")
    return 0


def school_list(args: argparse.Namespace) -> int:
    from backend.services.schools import list_schools

    with open_db(args)() as session:
        for school in list_schools(session):
            slugs = ", ".join(c.slug for c in school.communities) or "no communities"
            print(f"{school.slug}\t{school.name}\t{slugs}")
    return 0


def community_add(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.services.schools import add_community

    with transaction(open_db(args)) as session:
        community = add_community(session, args.school, args.slug, args.name)
        print(f"added community {community.slug} to school {args.school}")
    return 0


def community_list(args: argparse.Namespace) -> int:
    from backend.services.schools import get_school, list_schools

    with open_db(args)() as session:
        schools = (
            [get_school(session, args.school)] if args.school else list_schools(session)
        )
        for school in schools:
            for community in school.communities:
                print(f"{community.slug}\t{community.name}\t{school.slug}")
    return 0


def _parse_setting(text: str) -> tuple[str, str]:
    from backend.errors import InvalidValue

    name, sep, value = text.partition("=")
    if not sep or not name:
        raise InvalidValue(f"invalid setting {text!r}; write NAME=VALUE")
    return name.strip(), value.strip()


def community_set(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.services.schools import get_community, update_community

    changes: dict[str, Any] = dict(_parse_setting(text) for text in args.settings)
    if "hidden" in changes:
        changes["hidden"] = changes["hidden"].lower() in ("1", "true", "yes", "on")
    with transaction(open_db(args)) as session:
        community = get_community(session, args.slug)
        old = update_community(session, community, **changes)
        for name in changes:
            if name in old:
                print(f"{name}: {old[name]} -> {getattr(community, name)}")
            else:
                print(f"{name}: unchanged")
    return 0


def integration_set(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.services import integrations
    from backend.services.schools import get_community

    enabled = ON_OFF[args.state]
    with transaction(open_db(args)) as session:
        community = get_community(session, args.community)
        integrations.check_kind(args.kind)
        replaced = []
        if args.kind == "courses" and enabled:
            replaced = integrations.courses_replaced_on_enable(session, community)
        integrations.set_enabled(session, community, args.kind, enabled)
        print(f"{args.kind} is {args.state} for {community.slug}")
        if replaced:
            codes = ", ".join(c.course_code for c in replaced)
            print(f"replaced {len(replaced)} custom course(s), now inactive: {codes}")
    return 0


def integration_show(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.services.integrations import ensure_settings
    from backend.services.schools import get_community

    with transaction(open_db(args)) as session:
        community = get_community(session, args.community)
        for setting in ensure_settings(session, community):
            state = "on " if setting.enabled else "off"
            changed = (
                f"{setting.changed_by} {setting.changed_at:%Y-%m-%d %H:%M}"
                if setting.changed_at
                else ""
            )
            print(f"{setting.kind:<18} {state} {changed}")
    return 0
