"""The ``penji-tui sso`` commands and the ACS listener."""

from __future__ import annotations

import base64
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from backend.sso.listener import AcsListener
from penji_tui.cli import main
from tests.sso.conftest import SsoSchool
from tests.sso.idp import IdpKey, idp_metadata


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PENJI_SSO_KEYS_DIR", str(tmp_path / "keys"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--db", url, "school", "add", "uni", "--name", "Uni"]) == 0
    assert main(["--db", url, "community", "add", "uni", "lc", "--name", "LC"]) == 0
    return url


def test_setup_prints_endpoints(cli_db: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["--db", cli_db, "sso", "setup", "uni"]) == 0
    out = capsys.readouterr().out
    assert "https://cloud.penjiapp.com/saml/uni/login/callback" in out
    assert "link to school: https://web.penjiapp.com/s/" in out


def test_metadata_copy_uses_osc52(cli_db: str, capsys: pytest.CaptureFixture) -> None:
    main(["--db", cli_db, "sso", "setup", "uni"])
    capsys.readouterr()
    assert main(["--db", cli_db, "sso", "metadata", "uni", "--copy"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\x1b]52;c;")
    assert b"EntityDescriptor" in base64.b64decode(out[7:-1])


def test_idp_file_preview(
    cli_db: str,
    tmp_path: Path,
    idp_keys: dict[str, IdpKey],
    capsys: pytest.CaptureFixture,
) -> None:
    main(["--db", cli_db, "sso", "setup", "uni"])
    path = tmp_path / "idp.xml"
    path.write_text(idp_metadata([idp_keys["current"], idp_keys["soon"]]))
    assert main(["--db", cli_db, "sso", "idp", "uni", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("signing certificate") == 2
    assert "warning:" in out


def test_set_unknown_setting_fails(cli_db: str, capsys: pytest.CaptureFixture) -> None:
    main(["--db", cli_db, "sso", "setup", "uni"])
    assert main(["--db", cli_db, "sso", "set", "uni", "colour=blue"]) == 2
    assert "unknown SSO setting" in capsys.readouterr().err


def test_check_without_setup_fails(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "response.txt"
    path.write_text("PHg+")
    assert main(["--db", cli_db, "sso", "check", "uni", str(path)]) == 2
    assert "sso setup uni" in capsys.readouterr().err


def test_rotate_then_land(cli_db: str, capsys: pytest.CaptureFixture) -> None:
    main(["--db", cli_db, "sso", "setup", "uni"])
    capsys.readouterr()
    main(["--db", cli_db, "sso", "links", "uni"])
    old = capsys.readouterr().out.splitlines()[0].split("\t")[1]
    assert main(["--db", cli_db, "sso", "rotate", "uni"]) == 0
    capsys.readouterr()
    assert main(["--db", cli_db, "sso", "land", old]) == 0
    assert "does not work" in capsys.readouterr().out


def post(url: str, value: str) -> str:
    body = urllib.parse.urlencode({"SAMLResponse": value}).encode()
    with urllib.request.urlopen(url, data=body, timeout=10) as reply:
        return reply.read().decode()


def test_listener_accepts_response(sso_school: SsoSchool) -> None:
    listener = AcsListener(sso_school.factory, "uni", max_responses=1, timeout=30)
    request_id = sso_school.request()
    xml = sso_school.idp.respond(request_id, sso_school.entity_id, listener.acs_url)
    replies: list[str] = []
    sender = threading.Thread(
        target=lambda: replies.append(
            post(listener.acs_url, base64.b64encode(xml.encode()).decode())
        )
    )
    sender.start()
    results = listener.serve()
    sender.join(10)
    assert [r.reason for r in results] == ["accepted"]
    assert replies[0].startswith("<html><body><pre>accepted")


def test_listener_binds_loopback(sso_school: SsoSchool) -> None:
    listener = AcsListener(sso_school.factory, "uni", timeout=0)
    assert listener.httpd.server_address[0] == "127.0.0.1"
    assert listener.serve() == []


def test_listener_stops_after_count(sso_school: SsoSchool) -> None:
    listener = AcsListener(sso_school.factory, "uni", max_responses=2, timeout=30)
    xml = [
        sso_school.idp.respond(
            sso_school.request(), sso_school.entity_id, listener.acs_url
        )
        for _ in range(2)
    ]

    def send_both() -> None:
        for item in xml:
            post(listener.acs_url, base64.b64encode(item.encode()).decode())

    sender = threading.Thread(target=send_both)
    sender.start()
    results = listener.serve()
    sender.join(10)
    assert len(results) == 2


def test_cli_test_login_flow(
    cli_db: str,
    tmp_path: Path,
    idp_keys: dict[str, IdpKey],
    capsys: pytest.CaptureFixture,
) -> None:
    from tests.sso.idp import TestIdp

    main(["--db", cli_db, "sso", "setup", "uni"])
    metadata = tmp_path / "idp.xml"
    metadata.write_text(idp_metadata([idp_keys["current"]]))
    main(["--db", cli_db, "sso", "idp", "uni", "--file", str(metadata)])
    main(["--db", cli_db, "sso", "metadata", "uni", "--output", str(tmp_path / "sp")])
    capsys.readouterr()
    assert main(["--db", cli_db, "sso", "login-url", "uni"]) == 0
    url = capsys.readouterr().out.strip()

    idp = TestIdp(idp_keys["current"], (tmp_path / "sp").read_text())
    request_id, acs = idp.read_request(url)
    entity_id = "https://cloud.penjiapp.com/saml/uni/sp/metadata"
    response = tmp_path / "response.txt"
    xml = idp.respond(request_id, entity_id, acs)
    response.write_text(base64.b64encode(xml.encode()).decode())

    assert main(["--db", cli_db, "sso", "check", "uni", str(response)]) == 0
    checked = capsys.readouterr().out
    assert checked.startswith("accepted: the response is valid")
    assert main(["--db", cli_db, "sso", "check", "uni", str(response)]) == 1
    assert "replayed" in capsys.readouterr().out
    assert main(["--db", cli_db, "sso", "responses", "uni", "--show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "NameID: jdoe-persistent" in shown
    assert "urn:oasis:names:tc:SAML:2.0:protocol" in shown


def test_idp_from_https_url(
    cli_db: str,
    tmp_path: Path,
    idp_keys: dict[str, IdpKey],
    capsys: pytest.CaptureFixture,
) -> None:
    from tests.sso.https_server import MetadataServer

    main(["--db", cli_db, "sso", "setup", "uni"])
    body = idp_metadata([idp_keys["current"]]).encode()
    with MetadataServer(tmp_path, body) as server:
        code = main(
            [
                "--db",
                cli_db,
                "sso",
                "idp",
                "uni",
                "--url",
                f"{server.url}/metadata",
                "--cafile",
                str(server.cert_file),
                "--timeout",
                "5",
            ]
        )
    assert code == 0
    assert "stored the IdP metadata of uni (url https://127.0.0.1:" in (
        capsys.readouterr().out
    )
