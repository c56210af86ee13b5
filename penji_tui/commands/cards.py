"""Commands for card readers: layouts, parsing a swipe, a headless reader, a kiosk."""

from __future__ import annotations

import argparse
import codecs
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from penji_tui.commands import open_db

if TYPE_CHECKING:
    from backend.cards.layout import Extraction
    from backend.models import Student

LAYOUT_FLAGS = (
    "source",
    "mask",
    "offset",
    "length",
    "regex",
    "strip_leading_zeros",
    "issuer_prefix",
    "luhn",
    "prefixes",
    "suffixes",
    "proximity_format",
    "facility_code",
)
METHOD_FIELDS = ("mask", "offset", "length", "regex")


def register(commands: Any) -> None:
    card = commands.add_parser("card", help="card reader layouts, swipes and readers")
    actions = card.add_subparsers(dest="action", required=True, metavar="ACTION")
    _register_layout(actions)
    _register_parse(actions)
    _register_listen(actions)

    kiosk = commands.add_parser(
        "kiosk",
        help="full-screen check-in kiosk for a keyboard-mode card reader",
        description=(
            "Open a full-screen kiosk that checks students of COMMUNITY_SLUG in and "
            "out as a keyboard-mode (HID) card reader or scanner types each swipe. "
            "Ctrl+Q quits."
        ),
    )
    kiosk.add_argument("community", metavar="COMMUNITY_SLUG")
    kiosk.add_argument("--queue", type=Path, help="local swipe queue file")
    kiosk.set_defaults(handler=run_kiosk)


def _register_layout(actions: Any) -> None:
    layout = actions.add_parser("layout", help="show or set a community's card layout")
    layout_actions = layout.add_subparsers(
        dest="layout_action", required=True, metavar="ACTION"
    )
    show = layout_actions.add_parser("show", help="show the layout and its samples")
    show.add_argument("community", metavar="COMMUNITY_SLUG")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=layout_show)

    change = layout_actions.add_parser(
        "set",
        help="change the layout; it is tried on the samples before it is saved",
        description=(
            "Change the card layout of a community. Only the given fields change, "
            "unless --reset starts from the defaults. Setting --mask, "
            "--offset/--length or --regex replaces the other two ways. Positions "
            "count from the track's start sentinel. The layout is tried on every "
            "sample and saved only if each gives an ID, unless --force."
        ),
    )
    change.add_argument("community", metavar="COMMUNITY_SLUG")
    change.add_argument(
        "--source", help="where the ID is: 1, 2, 3 (a track) or whole (barcodes)"
    )
    change.add_argument("--mask", help="position mask, u unused and i ID")
    change.add_argument("--offset", type=int, help="first ID character, from 0")
    change.add_argument("--length", type=int, help="number of ID characters")
    change.add_argument("--regex", help="regular expression with one capture group")
    change.add_argument(
        "--number",
        action="store_true",
        help="take the track's account number (clears mask, offset and regex)",
    )
    change.add_argument(
        "--strip-zeros",
        dest="strip_leading_zeros",
        action=argparse.BooleanOptionalAction,
        help="remove leading zeros from the ID",
    )
    change.add_argument("--issuer-prefix", help="fixed prefix removed from the ID")
    change.add_argument(
        "--luhn",
        action=argparse.BooleanOptionalAction,
        help="check the card number's Luhn digit",
    )
    change.add_argument(
        "--prefix",
        dest="prefixes",
        action="append",
        help="a string the reader sends before each swipe (repeatable)",
    )
    change.add_argument(
        "--suffix",
        dest="suffixes",
        action="append",
        help="a string the reader sends after each swipe (repeatable)",
    )
    change.add_argument(
        "--proximity-format", help="h10301-decimal or h10301-hex, with --source whole"
    )
    change.add_argument("--facility-code", type=int, help="accepted facility code")
    change.add_argument(
        "--sample",
        dest="samples",
        action="append",
        help="a sample swipe, escapes such as \\r allowed; replaces the stored "
        "samples (repeatable)",
    )
    change.add_argument(
        "--clear-samples", action="store_true", help="remove the stored samples"
    )
    change.add_argument(
        "--repeat-seconds",
        help="ignore a second swipe of the same card within this many seconds",
    )
    change.add_argument(
        "--visit-hours",
        help="a check-in older than this many hours is not checked out",
    )
    change.add_argument(
        "--reset", action="store_true", help="start from the default layout"
    )
    change.add_argument(
        "--force", action="store_true", help="save even if a sample gives no ID"
    )
    change.add_argument("--json", action="store_true", help="print JSON")
    change.set_defaults(handler=layout_set)


def _register_parse(actions: Any) -> None:
    parse = actions.add_parser(
        "parse",
        help="parse a swipe with a community's layout and match the student",
        description=(
            "Print each track of SWIPE, the extracted ID (or why there is none) and "
            "the matched student. Write control characters as escapes: \\r, \\n, "
            "\\x02 (STX), \\x03 (ETX)."
        ),
    )
    parse.add_argument("community", metavar="COMMUNITY_SLUG")
    parse.add_argument("swipe", metavar="SWIPE")
    parse.add_argument("--json", action="store_true", help="print JSON")
    parse.set_defaults(handler=card_parse)


def _register_listen(actions: Any) -> None:
    listen = actions.add_parser(
        "listen",
        help="read a serial card reader and check students in, without a screen",
        description=(
            "Read swipes from a serial or USB-CDC reader and check students of "
            "COMMUNITY_SLUG in and out. Swipes are queued on local disk first, so "
            "none is lost while the database is down. Stop with Ctrl+C or SIGTERM."
        ),
    )
    listen.add_argument("community", metavar="COMMUNITY_SLUG")
    listen.add_argument("--port", required=True, help="device, such as /dev/ttyACM0")
    listen.add_argument("--baud", type=int, default=9600, help="baud rate")
    listen.add_argument(
        "--parity",
        default="none",
        choices=("none", "even", "odd", "mark", "space"),
        help="parity",
    )
    listen.add_argument("--bytesize", type=int, default=8, help="data bits")
    listen.add_argument("--stopbits", type=float, default=1, help="stop bits")
    listen.add_argument(
        "--silence-ms",
        type=int,
        default=200,
        help="a swipe with no terminator ends after this many milliseconds",
    )
    listen.add_argument("--queue", type=Path, help="local swipe queue file")
    listen.set_defaults(handler=card_listen)


def decode_swipe(text: str) -> str:
    r"""Turn escapes such as ``\r`` and ``\x02`` in a typed swipe into characters."""
    from backend.errors import InvalidValue

    try:
        return codecs.decode(text.encode("latin-1"), "unicode_escape")
    except (UnicodeError, ValueError) as error:
        raise InvalidValue(f"invalid escape in swipe {text!r}: {error}") from None


def default_queue_path() -> Path:
    from penji_tui.config import data_dir

    return data_dir() / "card-swipes.sqlite3"


def _layout_changes(
    args: argparse.Namespace, current: dict[str, Any]
) -> dict[str, Any]:
    options = {} if args.reset else dict(current)
    given = {
        name: getattr(args, name)
        for name in LAYOUT_FLAGS
        if getattr(args, name, None) is not None
    }
    if args.number or any(name in given for name in METHOD_FIELDS):
        for name in METHOD_FIELDS:
            options.pop(name, None)
    options.update(given)
    return options


def _print_settings(community_slug: str, settings: Any, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "community": community_slug,
                    "layout": settings.layout.as_options(),
                    "samples": settings.samples,
                    "repeat_seconds": settings.repeat_seconds,
                    "visit_hours": settings.visit_hours,
                },
                indent=2,
            )
        )
        return
    print(f"card layout of {community_slug} (ID by {settings.layout.method}):")
    for name, value in settings.layout.as_options().items():
        print(f"  {name}: {value}")
    print(f"  repeat_seconds: {settings.repeat_seconds:g}")
    print(f"  visit_hours: {settings.visit_hours:g}")
    for number, sample in enumerate(settings.samples, start=1):
        print(f"  sample {number}: {sample!r}")


def layout_show(args: argparse.Namespace) -> int:
    from backend.cards import service
    from backend.db import transaction
    from backend.services.schools import get_community

    with transaction(open_db(args)) as session:
        community = get_community(session, args.community)
        settings = service.read_settings(session, community)
    _print_settings(args.community, settings, args.json)
    return 0


def layout_set(args: argparse.Namespace) -> int:
    from backend.cards import service
    from backend.db import transaction
    from backend.services.schools import get_community

    samples: list[str] | None = None
    if args.clear_samples:
        samples = []
    if args.samples:
        samples = [decode_swipe(s) for s in args.samples]
    with transaction(open_db(args)) as session:
        community = get_community(session, args.community)
        current = service.read_settings(session, community)
        settings, results = service.save_settings(
            session,
            community,
            _layout_changes(args, current.layout.as_options()),
            samples=samples,
            repeat_seconds=args.repeat_seconds,
            visit_hours=args.visit_hours,
            force=args.force,
        )
    _print_settings(args.community, settings, args.json)
    if not args.json:
        for number, result in enumerate(results, start=1):
            found = result.id if result.id is not None else f"none: {result.reason}"
            print(f"  sample {number} gives id {found}")
    return 0


def _student_dict(student: Student | None) -> dict[str, Any] | None:
    if student is None:
        return None
    return {
        "first_name": student.first_name,
        "last_name": student.last_name,
        "email": student.email,
        "student_id": student.student_id,
        "sso_id": student.sso_id,
        "community_id": student.community_id,
        "source": student.source,
    }


def _print_extraction(result: Extraction, student: dict[str, Any] | None) -> None:
    swipe = result.swipe
    if not swipe.tracks:
        print("tracks: none found")
    for number, track in sorted(swipe.tracks.items()):
        state = f"  ({track.problem})" if track.problem else ""
        print(f"track {number}: {track.text!r}{state}")
    if swipe.noise:
        print(f"other characters: {swipe.noise!r}")
    if result.id is None:
        label = "failed read" if result.status == "failed_read" else "no id"
        print(f"id: none ({label}: {result.reason})")
        return
    print(f"id: {result.id}")
    if student is None:
        print("student: not found; a swipe would check in an unmatched ID")
    else:
        print(
            f"student: {student['first_name']} {student['last_name']} "
            f"<{student['email']}>"
        )


def card_parse(args: argparse.Namespace) -> int:
    from backend.cards import service
    from backend.cards.layout import extract
    from backend.services.schools import get_community

    data = decode_swipe(args.swipe)
    with open_db(args)() as session:
        community = get_community(session, args.community)
        settings = service.read_settings(session, community)
        result = extract(settings.layout, data)
        student = None
        if result.id is not None:
            student = _student_dict(
                service.match_student(session, community, result.id)
            )
    if args.json:
        print(json.dumps({**result.as_dict(), "student": student}, indent=2))
    else:
        _print_extraction(result, student)
    return 0 if result.id is not None else 1


def _check_reader_community(args: argparse.Namespace) -> Any:
    """Return the community's layout, or None when the database is down."""
    from backend.cards import service
    from backend.db import DatabaseError
    from backend.errors import InvalidValue
    from backend.services import integrations
    from backend.services.schools import get_community

    try:
        factory = open_db(args)
    except DatabaseError as error:
        print(f"warning: {error}; swipes wait in the local queue", file=sys.stderr)
        return None
    with factory() as session:
        community = get_community(session, args.community)
        if not integrations.is_enabled(session, community, service.KIND):
            raise InvalidValue(
                f"Card Readers is off for {args.community}; switch it on with "
                f"'penji-tui integration set {args.community} card_readers on'"
            )
        layout = service.read_settings(session, community).layout
    factory.kw["bind"].dispose()
    return layout


def card_listen(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    from backend.cards.listener import CardListener
    from backend.cards.serial_reader import PortSettings
    from backend.errors import InvalidValue

    layout = _check_reader_community(args)
    try:
        settings = PortSettings(
            port=args.port,
            baudrate=args.baud,
            parity=args.parity,
            bytesize=args.bytesize,
            stopbits=args.stopbits,
            silence=args.silence_ms / 1000,
            line_per_swipe=layout is not None and layout.source == "whole",
            suffixes=layout.suffixes if layout is not None else (),
        ).check()
    except ValueError as error:
        raise InvalidValue(str(error)) from None
    logging.getLogger().addHandler(logging.StreamHandler(sys.stderr))
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    listener = CardListener(
        args.community,
        settings,
        args.queue or default_queue_path(),
        lambda: open_db(args),
    )
    listener.run(stop)
    return 0


def _factory_even_if_down(args: argparse.Namespace) -> Any:
    """Open the database, or, while it is unreachable, a session factory that
    connects on first use without migrating, so a kiosk can start and queue."""
    from sqlalchemy.orm import sessionmaker

    from backend.db import DatabaseError, create_db_engine
    from penji_tui.config import database_url

    try:
        return open_db(args)
    except DatabaseError:
        return sessionmaker(
            create_db_engine(database_url(args.db)), expire_on_commit=False
        )


def run_kiosk(args: argparse.Namespace) -> int:
    from screens.kiosk import KioskApp

    _check_reader_community(args)
    app = KioskApp(
        _factory_even_if_down(args),
        args.community,
        args.queue or default_queue_path(),
    )
    app.run()
    return 0
