"""The Canvas integration: placement settings and the LTI 1.3 developer-key JSON.

Canvas takes a tool's configuration as developer-key JSON, whose fields are
documented in ``doc/api/lti_dev_key_config.md`` and ``doc/api/navigation_tools.md``
of instructure/canvas-lms, and gives back a client ID and one deployment ID per
install. The settings live in the options of the community's ``canvas``
integration row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from backend.errors import InvalidValue
from backend.models import Community
from backend.services import integrations

PLACEMENTS = ("global", "course", "both")
COURSE_DEFAULTS = ("enabled", "disabled")
OPEN_IN = ("canvas", "new_tab")
# The values Canvas accepts for ``privacy_level``, from most to least data sent.
PRIVACY_LEVELS = ("public", "name_only", "email_only", "anonymous")
ENVIRONMENTS = ("production", "beta", "test")
PLATFORM = "canvas.instructure.com"
MESSAGE_TYPE = "LtiResourceLinkRequest"
DEFAULT_TITLE = "Penji"


# Canvas developer key IDs are global IDs: digits only, such as 10000000000001.
CLIENT_ID_RE = re.compile(r"^[1-9][0-9]{0,19}$")
# A deployment ID is the tool's ID, a colon and a 40-digit hex SHA-1 of the
# account or course it is installed in, such as
# ``5:d3a2504bba5184799a38f141e8df2335cfa8206d``.
DEPLOYMENT_ID_RE = re.compile(r"^[1-9][0-9]{0,19}:[0-9a-f]{40}$")

SETTING_CHOICES: dict[str, tuple[str, ...]] = {
    "placement": PLACEMENTS,
    "course_default": COURSE_DEFAULTS,
    "open_in": OPEN_IN,
    "privacy_level": PRIVACY_LEVELS,
    "environment": ENVIRONMENTS,
}
TEXT_SETTINGS = ("title",)
BASE_URL_SETTINGS = ("base_url_production", "base_url_beta", "base_url_test")


@dataclass(frozen=True)
class Environment:
    """A hosted Canvas environment: its issuer and the endpoints a tool stores.

    The values are those of Instructure-hosted Canvas as listed in
    ``doc/api/lti_dev_key_config.md`` (the ``sso.canvaslms.com`` endpoints that
    replaced the ``canvas.instructure.com`` ones in August 2023).
    """

    name: str
    issuer: str
    authorization_endpoint: str
    jwks_url: str


ENVIRONMENT_FACTS = {
    "production": Environment(
        "production",
        "https://canvas.instructure.com",
        "https://sso.canvaslms.com/api/lti/authorize_redirect",
        "https://sso.canvaslms.com/api/lti/security/jwks",
    ),
    "beta": Environment(
        "beta",
        "https://canvas.beta.instructure.com",
        "https://sso.beta.canvaslms.com/api/lti/authorize_redirect",
        "https://sso.beta.canvaslms.com/api/lti/security/jwks",
    ),
    "test": Environment(
        "test",
        "https://canvas.test.instructure.com",
        "https://sso.test.canvaslms.com/api/lti/authorize_redirect",
        "https://sso.test.canvaslms.com/api/lti/security/jwks",
    ),
}

# NOTE: the vendor does not publish its LTI endpoints. The tool URLs are built
# from the ``base_url_*`` options, one per Canvas environment, which staff can
# change; the defaults are in ``integrations.DEFAULT_OPTIONS``.
DEFAULT_OPTIONS: dict[str, Any] = integrations.DEFAULT_OPTIONS["canvas"]


@dataclass(frozen=True)
class CanvasSettings:
    """The Canvas settings of one community, with defaults filled in."""

    school_slug: str
    community_slug: str
    community_name: str
    placement: str
    course_default: str
    open_in: str
    privacy_level: str
    environment: str
    title: str
    base_urls: dict[str, str]
    client_id: str
    deployment_ids: tuple[str, ...]

    @property
    def base_url(self) -> str:
        return self.base_urls[self.environment].rstrip("/")

    @property
    def facts(self) -> Environment:
        return ENVIRONMENT_FACTS[self.environment]

    @property
    def oidc_initiation_url(self) -> str:
        return f"{self.base_url}/lti/{self.school_slug}/login"

    @property
    def target_link_uri(self) -> str:
        return f"{self.base_url}/lti/{self.school_slug}/{self.community_slug}/launch"

    @property
    def public_jwk_url(self) -> str:
        return f"{self.base_url}/lti/jwks"


def load_settings(session: Session, community: Community) -> CanvasSettings:
    """Read the community's Canvas settings; missing options take their defaults."""
    options = {
        **DEFAULT_OPTIONS,
        **integrations.get_setting(session, community, "canvas").options,
    }
    base_urls = {name: options[f"base_url_{name}"] for name in ENVIRONMENTS}
    return CanvasSettings(
        school_slug=community.school.slug,
        community_slug=community.slug,
        community_name=community.name,
        placement=options["placement"],
        course_default=options["course_default"],
        open_in=options["open_in"],
        privacy_level=options["privacy_level"],
        environment=options["environment"],
        title=options["title"] or DEFAULT_TITLE,
        base_urls=base_urls,
        client_id=options["client_id"] or "",
        deployment_ids=tuple(options["deployment_ids"] or ()),
    )


def check_base_url(environment: str, url: str) -> str:
    """Return ``url`` without a trailing slash if it is an https URL with no path."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise InvalidValue(
            f"invalid base URL {url!r} for {environment}: write an https URL such "
            "as https://cloud.penjiapp.com"
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise InvalidValue(
            f"invalid base URL {url!r} for {environment}: give the scheme and host "
            "only; the /lti paths are added to it"
        )
    return f"https://{parts.netloc}"


def check_setting(name: str, value: str) -> str:
    """Return the normal form of one Canvas setting, or raise ``InvalidValue``."""
    value = value.strip()
    if name in SETTING_CHOICES:
        choices = SETTING_CHOICES[name]
        if value not in choices:
            raise InvalidValue(
                f"invalid {name} {value!r}; use one of: {', '.join(choices)}"
            )
        return value
    if name in TEXT_SETTINGS:
        if not value:
            raise InvalidValue(f"{name} cannot be empty")
        if len(value) > 100:
            raise InvalidValue(f"{name} is longer than 100 characters")
        return value
    if name in BASE_URL_SETTINGS:
        return check_base_url(name.removeprefix("base_url_"), value)
    names = [*SETTING_CHOICES, *TEXT_SETTINGS, *BASE_URL_SETTINGS]
    raise InvalidValue(
        f"unknown Canvas setting {name!r}; use one of: {', '.join(names)}"
    )


def check_client_id(value: str) -> str:
    """Check a Canvas developer key's client ID: digits such as 10000000000001."""
    value = value.strip()
    if not CLIENT_ID_RE.match(value):
        raise InvalidValue(
            f"invalid client ID {value!r}: Canvas client IDs are digits only, such "
            "as 10000000000001; copy the number from the Details column of the "
            "developer key"
        )
    return value


def check_deployment_id(value: str) -> str:
    """Check a Canvas deployment ID, such as ``5:d3a2…8206d`` (40 hex digits)."""
    value = value.strip().lower()
    if not DEPLOYMENT_ID_RE.match(value):
        raise InvalidValue(
            f"invalid deployment ID {value!r}: Canvas deployment IDs are the tool "
            "number, a colon and 40 hex digits, such as "
            "5:d3a2504bba5184799a38f141e8df2335cfa8206d; copy it from Deployment Id "
            "in the installed app's settings menu"
        )
    return value


def update_settings(
    session: Session, community: Community, changes: dict[str, str]
) -> CanvasSettings:
    """Change Canvas settings, such as ``{"placement": "course"}``, and audit it."""
    options = {name: check_setting(name, value) for name, value in changes.items()}
    if options:
        integrations.set_options(session, community, "canvas", **options)
    return load_settings(session, community)


def check_option(name: str, value: Any) -> Any:
    """Check one stored option of the ``canvas`` integration, whatever set it."""
    if name == "client_id":
        return check_client_id(str(value)) if str(value).strip() else ""
    if name == "deployment_ids":
        checked = [
            check_deployment_id(str(item)) for item in value if str(item).strip()
        ]
        return list(dict.fromkeys(checked))
    if not isinstance(value, str):
        raise InvalidValue(f"Canvas setting {name} must be text, not {value!r}")
    return check_setting(name, value)


def record_ids(
    session: Session,
    community: Community,
    client_id: str | None = None,
    deployment_ids: list[str] | None = None,
) -> CanvasSettings:
    """Store the client ID and deployment IDs that the school's Canvas admin sent.

    ``deployment_ids`` replaces the stored list; duplicates are dropped.
    """
    options: dict[str, Any] = {}
    if client_id is not None:
        options["client_id"] = client_id
    if deployment_ids is not None:
        options["deployment_ids"] = deployment_ids
    if options:
        integrations.set_options(session, community, "canvas", **options)
    return load_settings(session, community)


def placement_entry(settings: CanvasSettings, placement: str) -> dict[str, Any]:
    """Build one entry of ``extensions[].settings.placements``."""
    entry: dict[str, Any] = {
        "placement": placement,
        "message_type": MESSAGE_TYPE,
        "target_link_uri": settings.target_link_uri,
        "text": settings.title,
        "enabled": True,
    }
    if placement == "course_navigation":
        entry["default"] = settings.course_default
    if settings.open_in == "new_tab":
        # NOTE: Canvas documents windowTarget for course and account navigation
        # only; global navigation keeps the key too, untried on a live Canvas.
        entry["windowTarget"] = "_blank"
    return entry


def placement_names(settings: CanvasSettings) -> list[str]:
    names = []
    if settings.placement in ("global", "both"):
        names.append("global_navigation")
    if settings.placement in ("course", "both"):
        names.append("course_navigation")
    return names


def developer_key_json(settings: CanvasSettings) -> dict[str, Any]:
    """Build the LTI 1.3 developer-key JSON that the school pastes into Canvas."""
    domain = urlsplit(settings.base_url).netloc
    return {
        "title": settings.title,
        "description": (
            f"Tutoring, drop-ins and appointments with {settings.community_name} "
            "on Penji"
        ),
        "oidc_initiation_url": settings.oidc_initiation_url,
        "target_link_uri": settings.target_link_uri,
        "public_jwk_url": settings.public_jwk_url,
        "scopes": [],
        "extensions": [
            {
                "platform": PLATFORM,
                "domain": domain,
                "tool_id": f"penji-{settings.community_slug}",
                "privacy_level": settings.privacy_level,
                "settings": {
                    "text": settings.title,
                    "placements": [
                        placement_entry(settings, name)
                        for name in placement_names(settings)
                    ],
                },
            }
        ],
    }


def admin_steps(settings: CanvasSettings) -> list[str]:
    """Return the steps the school's Canvas admin follows, in order."""
    steps = [
        "In Canvas, open Admin, choose the root account, then Developer Keys.",
        "Choose + Developer Key, then + LTI Key.",
        "Fill in Key Name (for example Penji) and Owner Email, and put "
        f"{settings.target_link_uri} in Redirect URIs.",
        "Set Method to Paste JSON, paste the JSON, and Save.",
        "Switch the new key's State to On.",
        "Send Penji the key's Client ID: the number in the Details column.",
        "Open Admin, Settings, Apps, View App Configurations, + App; set "
        "Configuration Type to By Client ID, paste the Client ID, Submit, Install.",
        "Open the installed app's settings menu, choose Deployment Id, and send "
        "Penji that ID.",
    ]
    if settings.placement in ("course", "both") and settings.course_default == (
        "disabled"
    ):
        steps.append(
            "Tell instructors that the Penji link is off in their courses until "
            "they turn it on in Settings, Navigation."
        )
    if settings.privacy_level in ("anonymous", "name_only"):
        steps.append(
            f"Privacy level {settings.privacy_level} sends no email address, so "
            "Penji cannot match Canvas users to the roster by email."
        )
    return steps
