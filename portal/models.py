"""Imports every model so that metadata (and Alembic) sees the whole schema."""

from portal.areas.models import Area
from portal.audit.models import AuditEntry, QualityCheck
from portal.auth.models import LoginThrottle, RecoveryCode, User
from portal.categories.models import Category, CategoryQuestion, NeedAnswer
from portal.comments.models import Comment, CommentReport
from portal.core.models import Setting
from portal.feedback.models import Feedback
from portal.moderation.models import SensitiveTerm
from portal.needs.models import Need, NeedContact
from portal.notify.models import DigestRun, Follow, OutboxEmail
from portal.open311.models import ApiKey, RequestToken
from portal.partners.models import (
    Assignment,
    AssignmentRequest,
    CoHandler,
    Organisation,
    OrganisationResource,
)
from portal.photos.models import Photo
from portal.projects.models import (
    Milestone,
    Project,
    ProjectFollow,
    ProjectNeed,
    ProjectProposal,
    ProjectUpdate,
    ResourceCommitment,
)
from portal.routing.models import RoutingRule
from portal.voting.models import PriorityRound, RoundBallot, RoundItem, RoundVote, Support
from portal.workdays.models import CalendarDay
from portal.workflow.models import TimelineEvent

__all__ = [
    "ApiKey",
    "Area",
    "CategoryQuestion",
    "NeedAnswer",
    "RequestToken",
    "Assignment",
    "AssignmentRequest",
    "CoHandler",
    "RoutingRule",
    "AuditEntry",
    "CalendarDay",
    "Comment",
    "CommentReport",
    "Milestone",
    "Project",
    "ProjectFollow",
    "ProjectNeed",
    "ProjectProposal",
    "ProjectUpdate",
    "ResourceCommitment",
    "Feedback",
    "OrganisationResource",
    "Setting",
    "SensitiveTerm",
    "Category",
    "DigestRun",
    "Follow",
    "LoginThrottle",
    "Need",
    "NeedContact",
    "Organisation",
    "OutboxEmail",
    "Photo",
    "PriorityRound",
    "QualityCheck",
    "RecoveryCode",
    "RoundBallot",
    "RoundItem",
    "RoundVote",
    "Support",
    "TimelineEvent",
    "User",
]
