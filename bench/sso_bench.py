"""Time the SSO steps a school's launch depends on, against a pysaml2 test IdP.

For a school on a fresh SQLite file this measures, in one process:

1. making a signed AuthnRequest redirect URL (pysaml2 and xmlsec1);
2. checking a signed SAMLResponse end to end: structural checks, replay and
   request-ID lookups in the database, pysaml2 with xmlsec1, the attribute
   mapping and keeping the decoded response;
3. exporting the SP metadata.

Prints the median and the slowest run of each step in milliseconds.
Usage: python bench/sso_bench.py [--responses N] [--smoke]
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1000


def report(name: str, samples: list[float]) -> None:
    print(
        f"{name}: median {statistics.median(samples):.1f} ms, "
        f"max {max(samples):.1f} ms over {len(samples)} runs"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=50)
    parser.add_argument("--smoke", action="store_true", help="3 runs of each step")
    args = parser.parse_args()
    runs = 3 if args.smoke else args.responses

    with tempfile.TemporaryDirectory() as folder:
        os.environ["PENJI_SSO_KEYS_DIR"] = str(Path(folder) / "keys")
        from backend.db import open_database, transaction
        from backend.sso import logins, service
        from tests.helpers import make_community
        from tests.sso.idp import TestIdp, idp_metadata, make_idp_key

        factory = open_database(f"sqlite:///{folder}/bench.db")
        make_community(factory, "lc", "uni")
        key = make_idp_key(Path(folder) / "idp", "idp")
        with transaction(factory) as session:
            service.setup_sso(session, "uni")
            service.set_idp_metadata(session, "uni", idp_metadata([key]), "bench")
            sp_metadata = service.export_sp_metadata(session, "uni")
        idp = TestIdp(key, sp_metadata)
        print(f"{runs} runs, sqlite, xmlsec1, RSA-2048 SHA-256")

        urls: list[tuple[str, str]] = []
        report(
            "AuthnRequest URL",
            [
                timed(lambda: urls.append(logins.start_test_login(factory, "uni")))
                for _ in range(runs)
            ],
        )

        entity_id = "https://cloud.penjiapp.com/saml/uni/sp/metadata"
        acs = "https://cloud.penjiapp.com/saml/uni/login/callback"
        responses = [
            base64.b64encode(idp.respond(request_id, entity_id, acs).encode()).decode()
            for request_id, _url in urls
        ]
        outcomes: list[str] = []
        report(
            "check SAMLResponse",
            [
                timed(
                    lambda value=value: outcomes.append(
                        logins.check_test_response(factory, "uni", value).reason
                    )
                )
                for value in responses
            ],
        )
        if set(outcomes) != {"accepted"}:
            print(f"error: responses not accepted: {sorted(set(outcomes))}")
            return 1

        def export() -> None:
            with factory() as session:
                service.export_sp_metadata(session, "uni")

        report("SP metadata export", [timed(export) for _ in range(runs)])
        factory.kw["bind"].dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
