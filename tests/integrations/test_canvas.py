"""Canvas settings, the developer-key JSON and the client and deployment IDs."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.errors import InvalidValue
from backend.models import AuditEvent
from backend.services import canvas
from backend.services.schools import get_community
from tests.helpers import make_community

# Fields of a tool configuration as Canvas documents them in
# doc/api/lti_dev_key_config.md and navigation_tools.md of instructure/canvas-lms.
REQUIRED_TOP = ("title", "description", "oidc_initiation_url", "target_link_uri")
TOP_FIELDS = {
    "title",
    "description",
    "oidc_initiation_url",
    "target_link_uri",
    "public_jwk_url",
    "public_jwk",
    "scopes",
    "extensions",
    "custom_fields",
}
EXTENSION_FIELDS = {"platform", "domain", "tool_id", "privacy_level", "settings"}
PLACEMENT_FIELDS = {
    "placement",
    "message_type",
    "target_link_uri",
    "text",
    "icon_url",
    "enabled",
    "default",
    "windowTarget",
}
COMBINATIONS = list(
    itertools.product(
        canvas.PLACEMENTS,
        canvas.COURSE_DEFAULTS,
        canvas.OPEN_IN,
        canvas.PRIVACY_LEVELS,
        canvas.ENVIRONMENTS,
    )
)


def settings_for(**changes: Any) -> canvas.CanvasSettings:
    values: dict[str, Any] = {
        "school_slug": "uni",
        "community_slug": "lc",
        "community_name": "Learning Commons",
        "placement": "both",
        "course_default": "enabled",
        "open_in": "canvas",
        "privacy_level": "public",
        "environment": "production",
        "title": "Penji",
        "base_urls": {
            "production": "https://cloud.penjiapp.com",
            "beta": "https://beta.example.edu",
            "test": "https://test.example.edu",
        },
        "client_id": "",
        "deployment_ids": (),
    }
    values.update(changes)
    return canvas.CanvasSettings(**values)


@pytest.mark.parametrize(
    ("placement", "default", "open_in", "privacy", "environment"), COMBINATIONS
)
def test_json_fields_for_each_combination(
    placement: str, default: str, open_in: str, privacy: str, environment: str
) -> None:
    settings = settings_for(
        placement=placement,
        course_default=default,
        open_in=open_in,
        privacy_level=privacy,
        environment=environment,
    )
    config = json.loads(json.dumps(canvas.developer_key_json(settings)))

    for name in REQUIRED_TOP:
        assert isinstance(config[name], str)
        assert config[name]
    assert set(config) <= TOP_FIELDS
    assert "public_jwk_url" in config
    base = settings.base_urls[environment]
    for name in ("oidc_initiation_url", "target_link_uri", "public_jwk_url"):
        assert config[name].startswith(base + "/")

    assert len(config["extensions"]) == 1
    extension = config["extensions"][0]
    assert set(extension) <= EXTENSION_FIELDS
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["privacy_level"] == privacy
    assert extension["domain"] == base.removeprefix("https://")

    placements = extension["settings"]["placements"]
    names = [p["placement"] for p in placements]
    expected = {
        "global": ["global_navigation"],
        "course": ["course_navigation"],
        "both": ["global_navigation", "course_navigation"],
    }[placement]
    assert names == expected
    for entry in placements:
        assert set(entry) <= PLACEMENT_FIELDS
        assert entry["message_type"] == "LtiResourceLinkRequest"
        assert entry["enabled"] is True
        assert entry["target_link_uri"] == config["target_link_uri"]
        if open_in == "new_tab":
            assert entry["windowTarget"] == "_blank"
        else:
            assert "windowTarget" not in entry
        if entry["placement"] == "course_navigation":
            assert entry["default"] == default
        else:
            assert "default" not in entry


def test_urls_follow_environment_base_url() -> None:
    settings = settings_for(environment="beta")
    config = canvas.developer_key_json(settings)
    assert config["oidc_initiation_url"] == "https://beta.example.edu/lti/uni/login"
    assert config["target_link_uri"] == "https://beta.example.edu/lti/uni/lc/launch"
    assert config["public_jwk_url"] == "https://beta.example.edu/lti/jwks"


@pytest.mark.parametrize(
    ("environment", "issuer"),
    [
        ("production", "https://canvas.instructure.com"),
        ("beta", "https://canvas.beta.instructure.com"),
        ("test", "https://canvas.test.instructure.com"),
    ],
)
def test_environment_issuers(environment: str, issuer: str) -> None:
    assert canvas.ENVIRONMENT_FACTS[environment].issuer == issuer


def test_steps_warn_when_course_link_off() -> None:
    steps = canvas.admin_steps(settings_for(course_default="disabled"))
    assert any("until they turn it on" in step for step in steps)
    steps = canvas.admin_steps(
        settings_for(placement="global", course_default="disabled")
    )
    assert not any("until they turn it on" in step for step in steps)


@pytest.mark.parametrize("value", ["10000000000001", "170000000000123", "1", " 42 "])
def test_client_id_accepts_digits(value: str) -> None:
    assert canvas.check_client_id(value) == value.strip()


@pytest.mark.parametrize(
    "value", ["", "abc", "1000000000000a", "0123", "1.0E+13", "123:abc", "1" * 21]
)
def test_client_id_rejects_others(value: str) -> None:
    with pytest.raises(InvalidValue, match="client ID"):
        canvas.check_client_id(value)


def test_deployment_id_accepts_canvas_form() -> None:
    value = "5:D3A2504BBA5184799A38F141E8DF2335CFA8206D"
    assert canvas.check_deployment_id(value) == value.lower()


@pytest.mark.parametrize(
    "value",
    [
        "5",
        "d3a2504bba5184799a38f141e8df2335cfa8206d",
        "5:d3a2504bba5184799a38f141e8df2335cfa8206",
        "5:g3a2504bba5184799a38f141e8df2335cfa8206d",
        "x:d3a2504bba5184799a38f141e8df2335cfa8206d",
        "5: d3a2504bba5184799a38f141e8df2335cfa8206d",
    ],
)
def test_deployment_id_rejects_others(value: str) -> None:
    with pytest.raises(InvalidValue, match="deployment ID"):
        canvas.check_deployment_id(value)


def test_settings_stored_and_audited(factory: sessionmaker[Session]) -> None:
    make_community(factory)
    with transaction(factory) as session:
        community = get_community(session, "lc")
        canvas.update_settings(
            session,
            community,
            {
                "placement": "course",
                "course_default": "disabled",
                "open_in": "new_tab",
                "base_url_test": "https://test.example.edu/",
            },
        )
        canvas.record_ids(
            session,
            community,
            client_id="10000000000001",
            deployment_ids=[
                "5:d3a2504bba5184799a38f141e8df2335cfa8206d",
                "5:d3a2504bba5184799a38f141e8df2335cfa8206d",
            ],
        )
    with factory() as session:
        settings = canvas.load_settings(session, get_community(session, "lc"))
        actions = [e.action for e in session.query(AuditEvent).all()]
    assert settings.placement == "course"
    assert settings.course_default == "disabled"
    assert settings.open_in == "new_tab"
    assert settings.base_urls["test"] == "https://test.example.edu"
    assert settings.base_urls["production"] == "https://cloud.penjiapp.com"
    assert settings.client_id == "10000000000001"
    assert settings.deployment_ids == ("5:d3a2504bba5184799a38f141e8df2335cfa8206d",)
    assert actions.count("integration.options") == 2


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("placement", "sidebar", "invalid placement"),
        ("privacy_level", "everything", "invalid privacy_level"),
        ("environment", "staging", "invalid environment"),
        ("base_url_staging", "https://x.edu", "unknown Canvas setting"),
        ("base_url_beta", "http://x.edu", "invalid base URL"),
        ("base_url_beta", "https://x.edu/lti", "scheme and host only"),
        ("colour", "blue", "unknown Canvas setting"),
        ("title", "  ", "cannot be empty"),
    ],
)
def test_invalid_setting_rejected(
    sqlite_factory: sessionmaker[Session], name: str, value: str, message: str
) -> None:
    make_community(sqlite_factory)
    with (
        pytest.raises(InvalidValue, match=message),
        transaction(sqlite_factory) as session,
    ):
        canvas.update_settings(session, get_community(session, "lc"), {name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("placement", "sidebar"),
        ("client_id", "abc"),
        ("deployment_ids", ["5"]),
        ("base_url_test", {"url": "https://x.edu"}),
    ],
)
def test_generic_options_checked(
    sqlite_factory: sessionmaker[Session], name: str, value: object
) -> None:
    """The console's generic options form goes through the same checks."""
    from backend.services import integrations

    make_community(sqlite_factory)
    with pytest.raises(InvalidValue), transaction(sqlite_factory) as session:
        integrations.set_options(
            session, get_community(session, "lc"), "canvas", **{name: value}
        )
