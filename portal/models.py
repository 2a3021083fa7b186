"""Imports every model so that metadata (and Alembic) sees the whole schema."""

from portal.auth.models import User
from portal.needs.models import Category, Need, NeedContact
from portal.notify.models import DigestRun, Follow, OutboxEmail
from portal.partners.models import Organisation
from portal.voting.models import PriorityRound, RoundBallot, RoundItem, RoundVote, Support
from portal.workflow.models import TimelineEvent

__all__ = [
    "Category",
    "DigestRun",
    "Follow",
    "Need",
    "NeedContact",
    "Organisation",
    "OutboxEmail",
    "PriorityRound",
    "RoundBallot",
    "RoundItem",
    "RoundVote",
    "Support",
    "TimelineEvent",
    "User",
]
