"""All tables of penji-tui; importing this package registers them on ``Base``."""

from backend.models.activity import (
    DropInCheckIn,
    Membership,
    ProviderSignUp,
    TutoringSession,
    User,
)
from backend.models.base import Base, utcnow
from backend.models.cards import SWIPE_OUTCOMES, CardSwipe
from backend.models.imports import AuditEvent, ImportRun, Lease
from backend.models.roster import (
    SOURCES,
    Course,
    CourseGrade,
    Enrollment,
    Provider,
    Student,
    StudentMetadata,
)
from backend.models.school import (
    ELIGIBILITY_VALUES,
    INTEGRATION_KINDS,
    Community,
    IntegrationSetting,
    School,
)
from backend.models.sso import (
    ShareLink,
    SsoConfig,
    SsoRequest,
    SsoSeenAssertion,
    SsoTestResponse,
)
from backend.models.sync import SYNC_STATUSES, SYNC_TRIGGERS, SyncRun, SyncSchedule

__all__ = [
    "ELIGIBILITY_VALUES",
    "INTEGRATION_KINDS",
    "SOURCES",
    "SWIPE_OUTCOMES",
    "SYNC_STATUSES",
    "SYNC_TRIGGERS",
    "AuditEvent",
    "Base",
    "CardSwipe",
    "Community",
    "Course",
    "CourseGrade",
    "DropInCheckIn",
    "Enrollment",
    "ImportRun",
    "IntegrationSetting",
    "Lease",
    "Membership",
    "Provider",
    "ProviderSignUp",
    "School",
    "ShareLink",
    "SsoConfig",
    "SsoRequest",
    "SsoSeenAssertion",
    "SsoTestResponse",
    "Student",
    "StudentMetadata",
    "SyncRun",
    "SyncSchedule",
    "TutoringSession",
    "User",
    "utcnow",
]
