"""The one way a need comes in.

Each channel only parses its input into a `Submission` (the web form and staff
intake with their WTForms classes, Open311 with `parse_request`), checked with
the rules of `portal.needs.rules`, and calls `submit()`. Everything else (the
need and its contact, the `submit` step on the timeline, the receipt, the
answers, the photos, the audit row of a need entered by staff, what the channel
adds) is written here in one transaction and committed once; the idempotency
key makes a repeated submission find the need it created instead of a second
one."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from portal.audit.services import record
from portal.auth.models import User
from portal.categories.questions import save_answers
from portal.domain import DomainError
from portal.models_base import commit_once
from portal.needs.models import Need
from portal.needs.rules import STAFF_CHANNELS
from portal.needs.services import Submission, submit_need
from portal.needs.tokens import tracking_token_for
from portal.photos.services import attach_photos
from portal.workflow.services import Actor, ActorRole

STAFF_ROLES = (ActorRole.ADMIN, ActorRole.PARTNER)


class SubmissionError(DomainError):
    """A submission that cannot be made (`field`: the form field it is about)."""


def submit(
    data: Submission,
    actor: Actor,
    *,
    submitter: User | None = None,
    on_created: Callable[[Need], object] | None = None,
) -> tuple[Need, str | None]:
    """Create the need of a checked submission and commit: the channel's single
    commit (through `commit_once`). Returns the need and its private tracking
    token; a key seen before returns the need that key created, untouched.

    `actor` is who submits: the public (with `submitter`, the member's account,
    which then follows the need), or staff entering a need for someone who
    phoned or came in: that needs a staff channel and writes an audit row.
    `on_created(need)` adds what only the channel knows (Open311's request
    token) in the same transaction."""
    staff = actor.role in STAFF_ROLES
    if staff and data.channel not in STAFF_CHANNELS:
        raise SubmissionError(_("Choose how the need reached you."), "channel")

    def create() -> Need:
        need, _token = submit_need(data, actor, submitter=submitter)
        save_answers(need, data.answers)
        if data.photos is not None:  # files move in place when this commits
            attach_photos(need, data.photos, uploader=submitter or actor.user)
        if staff:  # who entered it and how it reached them, now that it has a reference
            after = {"status": need.status.value, "channel": data.channel}
            record(actor.user, "need.intake", need, after=after)
        if on_created is not None:
            on_created(need)
        return need

    need = commit_once(Need, data.idempotency_key, create)
    return need, tracking_token_for(need)
