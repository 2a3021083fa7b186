"""Erasing personal data: a submitter's contact details (on request or after the
retention period) and a member's whole account. Services: the caller commits
(the retention command once per batch)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record
from portal.auth.models import Delivery, RecoveryCode, Role, User
from portal.domain import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need, NeedContact
from portal.notify.models import DigestRun, Follow, OutboxEmail, OutboxStatus
from portal.projects.models import ProjectFollow
from portal.workflow.services import Actor, WorkflowError, allowed_moves, transition

#: The personal fields of a contact record, emptied when it is erased. The
#: locale stays (it says nothing about the person) and so does the consent
#: record (what was agreed to, and when).
CONTACT_FIELDS = ("email", "name", "phone", "device_id", "account_id", "media_url")
_BLANK_CONTACT = dict.fromkeys(CONTACT_FIELDS, "")


class PrivacyError(DomainError):
    """A request the privacy rules refuse."""


# --- mail that waits for an erased address ------------------------------------------


def forget_mail(address: str, *, need_ids: Iterable[int] | sa.Select | None = None) -> int:
    """Cancel the mails to `address` that are not sent yet and blank the
    address and text of every mail to it (sent ones included), optionally only
    those about these needs (ids, or a SELECT of ids). Returns how many were
    cancelled."""
    if not address:
        return 0
    db.session.flush()  # mails queued earlier in this transaction count too
    mails = sa.update(OutboxEmail).where(OutboxEmail.to_address == address)
    if need_ids is not None:
        ids = need_ids if isinstance(need_ids, sa.Select) else list(need_ids)
        mails = mails.where(OutboxEmail.need_id.in_(ids))
    cancelled = db.session.execute(
        mails.where(OutboxEmail.status == OutboxStatus.QUEUED).values(
            status=OutboxStatus.CANCELLED
        ),
        execution_options={"synchronize_session": "fetch"},
    ).rowcount
    db.session.execute(
        mails.values(to_address="", body_text=""),
        execution_options={"synchronize_session": "fetch"},
    )
    return cancelled


# --- a submitter's contact details -----------------------------------------------------


def erase_contact(need: Need, *, position: bool = True, now: datetime | None = None) -> None:
    """Empty the contact record of a need (no more e-mails reach its submitter)
    and, with `position`, the need's exact position; the place text stays,
    since it is public and the form asks for no personal details in it."""
    now = now or utcnow()
    contact = need.contact
    address = contact.email if contact is not None else ""
    if contact is not None:
        for name in CONTACT_FIELDS:
            setattr(contact, name, "")
    if position:
        need.lat = need.lon = None
    need.contact_erased_at = need.contact_erased_at or now
    forget_mail(address, need_ids=[need.id])


def contact_is_erased(need: Need) -> bool:
    return need.contact_erased_at is not None


def can_withdraw(need: Need) -> bool:
    return "withdraw" in allowed_moves(need, Actor.submitter(token_verified=True))


def withdraw_and_erase(need: Need) -> None:
    """The tracking page's "withdraw and delete": the withdrawal goes through the
    workflow (its timeline event and its mail, which the erasure then cancels)."""
    if not can_withdraw(need):
        raise PrivacyError(
            _(
                "This need can no longer be withdrawn (it is “%(status)s”).",
                status=need.status.label,
            )
        )
    try:
        transition(need, "withdraw", Actor.submitter(token_verified=True))
    except WorkflowError as error:
        raise PrivacyError(str(error)) from error
    erase_contact(need)


# --- the retention period ------------------------------------------------------------


def retention_cutoff(now: datetime | None = None, days: int | None = None) -> datetime:
    """Needs that ended before this moment have kept their contact long enough."""
    if days is None:
        days = current_app.config["CONTACT_RETENTION_DAYS"]
    return (now or utcnow()) - timedelta(days=days)


def _expired(cutoff: datetime):
    return Need.contact_erased_at.is_(None), Need.ended_at < cutoff


def count_expired_contacts(cutoff: datetime) -> int:
    return db.session.scalar(sa.select(sa.func.count(Need.id)).where(*_expired(cutoff)))


def expired_contacts(cutoff: datetime, limit: int) -> list[int]:
    """The next batch of needs whose contact is due for erasure: one range of
    ix_needs_contact_retention (not erased, ended before the cutoff), so the
    cost follows the batch, not the history of erased needs."""
    return list(
        db.session.scalars(
            sa.select(Need.id).where(*_expired(cutoff)).order_by(Need.ended_at).limit(limit)
        )
    )


def erase_expired_contacts(need_ids: list[int], now: datetime | None = None) -> int:
    """Erase the contacts of one batch with three UPDATEs (contacts, positions,
    mails), whatever its size. Returns how many contacts were erased."""
    if not need_ids:
        return 0
    now = now or utcnow()
    pairs = [
        (need_id, address)
        for need_id, address in db.session.execute(
            sa.select(NeedContact.need_id, NeedContact.email).where(
                NeedContact.need_id.in_(need_ids), NeedContact.email != ""
            )
        )
    ]
    db.session.execute(
        sa.update(NeedContact).where(NeedContact.need_id.in_(need_ids)).values(**_BLANK_CONTACT),
        execution_options={"synchronize_session": False},
    )
    erased = db.session.execute(
        sa.update(Need)
        .where(Need.id.in_(need_ids), Need.contact_erased_at.is_(None))
        .values(lat=None, lon=None, contact_erased_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount
    if pairs:
        mails = sa.update(OutboxEmail).where(
            OutboxEmail.to_address.in_({address for _, address in pairs}),
            sa.tuple_(OutboxEmail.need_id, OutboxEmail.to_address).in_(pairs),
        )
        db.session.execute(
            mails.where(OutboxEmail.status == OutboxStatus.QUEUED).values(
                status=OutboxStatus.CANCELLED
            ),
            execution_options={"synchronize_session": False},
        )
        db.session.execute(
            mails.values(to_address="", body_text=""),
            execution_options={"synchronize_session": False},
        )
    return erased


# --- a member's account --------------------------------------------------------------


def deletion_refusal(user: User, *, lock: bool = False) -> str | None:
    """Why this account may not delete itself, or None. Partner staff act for
    their organisation: their account (and its trail on needs) is closed by an
    administrator, who first makes it a member account. An administrator may
    leave only while another active one remains (`lock`: counted under row
    locks, when the deletion follows)."""
    if user.role == Role.PARTNER:
        return _(
            "This is a staff account of %(organisation)s. Ask an administrator of the "
            "portal to close it: they change it to a member account, which you can "
            "then delete here.",
            organisation=user.organisation.name if user.organisation else "—",
        )
    if user.role == Role.ADMIN and not _other_active_admins(user, lock):
        return _(
            "You are the only active administrator. Make another account an "
            "administrator first, so the portal is not left without one."
        )
    return None


def _other_active_admins(user: User, lock: bool) -> list[int]:
    """Locked before a deletion, so two administrators leaving at the same
    moment cannot both count on the other staying (PostgreSQL row locks;
    SQLite has one writer at a time)."""
    stmt = sa.select(User.id).where(User.role == Role.ADMIN, User.active, User.id != user.id)
    return list(db.session.scalars(stmt.with_for_update() if lock else stmt))


def erased_email(user: User) -> str:
    """Unique like an address (the column is unique) but not one: no "@", so no
    form accepts it for a login, a reset or a registration."""
    return f"erased-account-{user.id}"


def delete_account(user: User, password: str, now: datetime | None = None) -> None:
    """Erase the account's personal data and keep its public contributions.

    Needs, comments, supports, votes, feedback and proposals stay, linked to the
    anonymised account and shown as by "a former member", so every count stays
    right. The needs it submitted lose their contact details and exact position
    (as `erase_contact`); mails not yet sent to its addresses are cancelled and
    all mails to them blanked; follows and digest records are removed. The
    audit row names the account's id only."""
    if not user.check_password(password or ""):
        raise PrivacyError(_("The password is wrong."), "password")
    refusal = deletion_refusal(user, lock=True)
    if refusal:
        raise PrivacyError(refusal)
    now = now or utcnow()

    submitted = sa.select(Need.id).where(Need.submitter_id == user.id)
    contact_addresses = set(
        db.session.scalars(
            sa.select(NeedContact.email)
            .where(NeedContact.need_id.in_(submitted), NeedContact.email != "")
            .distinct()
        )
    )
    db.session.execute(
        sa.update(NeedContact).where(NeedContact.need_id.in_(submitted)).values(**_BLANK_CONTACT),
        execution_options={"synchronize_session": "fetch"},
    )
    db.session.execute(
        sa.update(Need)
        .where(Need.submitter_id == user.id, Need.contact_erased_at.is_(None))
        .values(lat=None, lon=None, contact_erased_at=now),
        execution_options={"synchronize_session": "fetch"},
    )
    forget_mail(user.email)
    for address in contact_addresses - {user.email}:
        # An address typed on the form for one of its needs: only those needs' mails.
        forget_mail(address, need_ids=submitted)
    for model in (Follow, ProjectFollow, DigestRun, RecoveryCode):
        db.session.execute(sa.delete(model).where(model.user_id == user.id))

    user.email = erased_email(user)
    user.totp_secret = ""  # an administrator's second factor goes with the account
    user.totp_enabled_at = user.totp_last_step = user.totp_reset_at = None
    user.display_name = ""
    user.password_hash = ""
    user.active = False
    user.locale = ""
    user.consent_notice_version = ""
    user.consent_at = None
    user.email_verified_at = None
    user.notify_own = Delivery.OFF
    user.notify_followed = Delivery.OFF
    user.last_digest_at = None
    user.erased_at = now
    user.end_all_sessions()
    db.session.flush()
    entry = record(user, "account.delete", user, actor_role=user.role.value)
    entry.client_address = ""  # an address would say who it was
