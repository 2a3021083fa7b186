"""Imports every model so that metadata (and Alembic) sees the whole schema."""

from portal.auth.models import User
from portal.needs.models import Category, Need, NeedContact
from portal.notify.models import OutboxEmail
from portal.partners.models import Organisation
from portal.workflow.models import TimelineEvent

__all__ = [
    "Category",
    "Need",
    "NeedContact",
    "Organisation",
    "OutboxEmail",
    "TimelineEvent",
    "User",
]
