"""The ``sso`` commands: school SAML SSO, test logins, share links and landing."""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path
from typing import Any

from penji_tui.commands import open_db


def register(commands: Any) -> None:
    sso = commands.add_parser(
        "sso",
        help="set up school SAML SSO, test logins, share links",
        description="Set up a school's SAML SSO, prove it with test logins, and "
        "manage share links.",
    )
    actions = sso.add_subparsers(dest="action", required=True, metavar="ACTION")

    setup = actions.add_parser(
        "setup", help="create the SP key, certificate and share links of a school"
    )
    setup.add_argument("school", metavar="SCHOOL_SLUG")
    setup.add_argument(
        "--base-url",
        default="https://cloud.penjiapp.com",
        help="base of the entity ID and ACS URL (default: %(default)s)",
    )
    setup.add_argument(
        "--new-key",
        action="store_true",
        help="replace the SP key and certificate; the school's IT must load the "
        "new SP metadata",
    )
    setup.set_defaults(handler=sso_setup)

    show = actions.add_parser("show", help="show a school's SSO settings and IdP")
    show.add_argument("school", metavar="SCHOOL_SLUG")
    show.set_defaults(handler=sso_show)

    metadata = actions.add_parser("metadata", help="export the SP metadata")
    metadata.add_argument("school", metavar="SCHOOL_SLUG")
    metadata.add_argument("--output", metavar="FILE", help="write it to FILE")
    metadata.add_argument(
        "--copy",
        action="store_true",
        help="copy it to the clipboard of the terminal (OSC 52, works over SSH)",
    )
    metadata.set_defaults(handler=sso_metadata)

    idp = actions.add_parser("idp", help="load the IdP metadata, with a preview")
    idp.add_argument("school", metavar="SCHOOL_SLUG")
    source = idp.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", metavar="FILE", help="read it from FILE")
    source.add_argument("--url", metavar="URL", help="fetch it from an HTTPS URL")
    source.add_argument(
        "--paste", action="store_true", help="read pasted XML from standard input"
    )
    idp.add_argument(
        "--timeout", type=float, default=10.0, help="URL fetch timeout in seconds"
    )
    idp.add_argument(
        "--cafile", metavar="FILE", help="extra trusted CA certificates for --url"
    )
    idp.add_argument(
        "--preview", action="store_true", help="show the preview and store nothing"
    )
    idp.set_defaults(handler=sso_idp)

    change = actions.add_parser(
        "set",
        help="change mapping and options, such as email_domains=uni.edu",
        description="Settings: username_attribute, email_attribute, "
        "student_id_attribute, email_domains (comma-separated), allow_idp_initiated "
        "(on/off), clock_skew_seconds (0-600), name_id_format, base_url.",
    )
    change.add_argument("school", metavar="SCHOOL_SLUG")
    change.add_argument("settings", metavar="NAME=VALUE", nargs="+")
    change.set_defaults(handler=sso_set)

    login = actions.add_parser(
        "login-url", help="make the AuthnRequest URL of a test login"
    )
    login.add_argument("school", metavar="SCHOOL_SLUG")
    login.set_defaults(handler=sso_login_url)

    check = actions.add_parser(
        "check",
        help="check a SAMLResponse pasted as base64 (from the browser's network tab)",
    )
    check.add_argument("school", metavar="SCHOOL_SLUG")
    check.add_argument(
        "file", metavar="FILE", nargs="?", help="file with the value (default: stdin)"
    )
    check.set_defaults(handler=sso_check)

    listen = actions.add_parser(
        "listen", help="receive test-login responses on an ACS listener on 127.0.0.1"
    )
    listen.add_argument("--school", required=True, metavar="SCHOOL_SLUG")
    listen.add_argument("--port", type=int, default=8443, help="port (default 8443)")
    listen.add_argument(
        "--count", type=int, default=1, help="stop after this many responses"
    )
    listen.add_argument(
        "--timeout", type=float, default=300.0, help="stop after this many seconds"
    )
    listen.set_defaults(handler=sso_listen)

    responses = actions.add_parser(
        "responses", help="list the last test-login responses, or show one"
    )
    responses.add_argument("school", metavar="SCHOOL_SLUG")
    responses.add_argument("--show", type=int, metavar="ID", help="show one, decoded")
    responses.set_defaults(handler=sso_responses)

    links = actions.add_parser("links", help="show the school and community links")
    links.add_argument("school", metavar="SCHOOL_SLUG")
    links.set_defaults(handler=sso_links)

    rotate = actions.add_parser(
        "rotate", help="replace a share link; the old one stops working"
    )
    rotate.add_argument("school", metavar="SCHOOL_SLUG")
    rotate.add_argument(
        "--community", metavar="SLUG", help="rotate this community's link"
    )
    rotate.set_defaults(handler=sso_rotate)

    land = actions.add_parser("land", help="show where a share link takes a user")
    land.add_argument("link", metavar="LINK", help="share link URL or token")
    land.add_argument("--email", help="the user's email (omit for a new user)")
    land.add_argument(
        "--signed-in", action="store_true", help="the user is already signed in"
    )
    land.set_defaults(handler=sso_land)


def osc52(text: str) -> str:
    """Return the OSC 52 sequence that puts ``text`` on the terminal's clipboard."""
    return f"\x1b]52;c;{base64.b64encode(text.encode()).decode()}\x07"


def sso_setup(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.sso import service
    from backend.sso.links import school_links
    from backend.sso.saml import sp_acs_url, sp_entity_id

    with transaction(open_db(args)) as session:
        config = service.setup_sso(
            session, args.school, args.base_url, new_key=args.new_key
        )
        print(f"SP entity ID: {sp_entity_id(config.base_url, args.school)}")
        print(f"ACS URL: {sp_acs_url(config.base_url, args.school)}")
        print(f"SP key file: {config.key_path}")
        for target, url in school_links(session, args.school):
            print(f"link to {target}: {url}")
    print(f"next: penji-tui sso metadata {args.school} --output sp.xml")
    return 0


def sso_show(args: argparse.Namespace) -> int:
    from backend.sso import service
    from backend.sso.report import config_lines, idp_lines
    from backend.sso.saml import sp_acs_url, sp_entity_id

    with open_db(args)() as session:
        _school, config = service.require_config(session, args.school)
        entity_id = sp_entity_id(config.base_url, args.school)
        acs = sp_acs_url(config.base_url, args.school)
        lines = config_lines(config, entity_id, acs)
        preview = service.idp_preview(config)
    print("\n".join(lines))
    if preview is None:
        print(f"IdP: none loaded; run 'penji-tui sso idp {args.school} --file FILE'")
    else:
        print("\n".join(idp_lines(preview)))
    return 0


def sso_metadata(args: argparse.Namespace) -> int:
    from backend.sso import service

    with open_db(args)() as session:
        xml = service.export_sp_metadata(session, args.school)
    if args.output:
        Path(args.output).write_text(xml, encoding="utf-8")
        print(f"wrote the SP metadata to {args.output}", file=sys.stderr)
    if args.copy:
        sys.stdout.write(osc52(xml))
        sys.stdout.flush()
        print("copied the SP metadata to the terminal clipboard", file=sys.stderr)
    if not args.output and not args.copy:
        print(xml)
    return 0


def sso_idp(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.sso import service
    from backend.sso.metadata import fetch_metadata, parse_idp_metadata
    from backend.sso.report import idp_lines

    if args.file:
        data: bytes = Path(args.file).read_bytes()
        source = f"file {args.file}"
    elif args.url:
        data = fetch_metadata(args.url, timeout=args.timeout, cafile=args.cafile)
        source = f"url {args.url}"
    else:
        data = sys.stdin.buffer.read()
        source = "pasted"
    print("\n".join(idp_lines(parse_idp_metadata(data))))
    if args.preview:
        return 0
    with transaction(open_db(args)) as session:
        service.set_idp_metadata(session, args.school, data, source)
    print(f"stored the IdP metadata of {args.school} ({source})")
    return 0


def sso_set(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.sso import service
    from penji_tui.commands.roster import _parse_setting

    changes = dict(_parse_setting(text) for text in args.settings)
    with transaction(open_db(args)) as session:
        old = service.update_settings(session, args.school, **changes)
        _school, config = service.require_config(session, args.school)
        for name in changes:
            if name in old:
                print(f"{name}: {old[name]} -> {getattr(config, name)}")
            else:
                print(f"{name}: unchanged")
    return 0


def sso_login_url(args: argparse.Namespace) -> int:
    from backend.sso import logins

    request_id, url = logins.start_test_login(open_db(args), args.school)
    print(f"request ID {request_id}; open this URL in a browser:", file=sys.stderr)
    print(url)
    return 0


def _print_result(result: Any) -> int:
    from backend.sso.report import result_lines

    print("\n".join(result_lines(result)))
    return 0 if result.accepted else 1


def sso_check(args: argparse.Namespace) -> int:
    from backend.sso import logins

    if args.file:
        text = Path(args.file).read_text(encoding="utf-8", errors="replace")
    else:
        if sys.stdin.isatty():
            print("paste the SAMLResponse, then Ctrl+D:", file=sys.stderr)
        text = sys.stdin.read()
    result = logins.check_test_response(open_db(args), args.school, text)
    return _print_result(result)


def sso_listen(args: argparse.Namespace) -> int:
    from backend.errors import InvalidValue
    from backend.sso import service
    from backend.sso.listener import AcsListener

    factory = open_db(args)
    with factory() as session:
        service.require_config(session, args.school)
    try:
        listener = AcsListener(
            factory,
            args.school,
            port=args.port,
            max_responses=args.count,
            timeout=args.timeout,
            on_result=_print_result,
        )
    except OSError as error:
        raise InvalidValue(
            f"cannot listen on 127.0.0.1:{args.port} ({error.strerror}); "
            "pick another --port"
        ) from None
    print(
        f"listening on {listener.acs_url} (127.0.0.1 only); stops after "
        f"{args.count} response(s) or {args.timeout:g} s",
        file=sys.stderr,
    )
    results = listener.serve()
    if not results:
        print("no response arrived before the timeout", file=sys.stderr)
        return 1
    return 0 if all(r.accepted for r in results) else 1


def sso_responses(args: argparse.Namespace) -> int:
    from backend.sso import logins
    from backend.sso.report import kept_response_lines

    with open_db(args)() as session:
        rows = logins.recent_responses(session, args.school)
    if args.show is not None:
        chosen = [row for row in rows if row.id == args.show]
        if not chosen:
            print(f"error: no kept response {args.show}", file=sys.stderr)
            return 2
        print("\n".join(kept_response_lines(chosen[0])))
        return 0
    for row in rows:
        outcome = "accepted" if row.accepted else f"rejected: {row.failure}"
        print(f"{row.id}\t{row.received_at:%Y-%m-%d %H:%M:%S}\t{row.via}\t{outcome}")
    return 0


def sso_links(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.services.schools import get_school
    from backend.sso.links import ensure_links, school_links

    with transaction(open_db(args)) as session:
        ensure_links(session, get_school(session, args.school))
        for target, url in school_links(session, args.school):
            print(f"{target}\t{url}")
    return 0


def sso_rotate(args: argparse.Namespace) -> int:
    from backend.db import transaction
    from backend.sso.links import link_url, rotate_link

    with transaction(open_db(args)) as session:
        link = rotate_link(session, args.school, args.community)
        print(f"new link: {link_url(link)} (the old link no longer works)")
    return 0


def sso_land(args: argparse.Namespace) -> int:
    from backend.sso.links import where_will_user_land

    with open_db(args)() as session:
        landing = where_will_user_land(session, args.link, args.email, args.signed_in)
    steps = {"sso": "signs in through SSO", "password": "signs in", None: ""}
    first = steps[landing.sign_in]
    target = {
        "community": f"lands in {landing.community_slug}",
        "not_eligible": f"sees 'not eligible' for {landing.community_slug}",
        "choose_community": "sees the school's list of communities",
        "invalid_link": "sees that the link does not work",
    }[landing.outcome]
    print(f"{first}, then {target}" if first else target)
    print(f"why: {landing.reason}")
    return 0
