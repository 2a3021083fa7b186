from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models_base import UTCDateTime, enum_column, utcnow
from portal.partners.models import Organisation


class Role(enum.StrEnum):
    MEMBER = "member"
    PARTNER = "partner"
    ADMIN = "admin"


#: Lazy, so each request sees its own language.
ROLE_LABELS = {
    Role.MEMBER: _l("Member"),
    Role.PARTNER: _l("Partner staff"),
    Role.ADMIN: _l("Admin"),
}


class Delivery(enum.StrEnum):
    """How a member wants to hear about one kind of news by e-mail."""

    IMMEDIATE = "immediate"
    DAILY = "daily"
    OFF = "off"


#: Shown instead of the name of an account its owner deleted; translated when
#: shown, never stored.
FORMER_MEMBER = _l("a former member")


class User(UserMixin, db.Model):
    """An account. Visitors who submit without one never get a row here."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    _display_name: Mapped[str] = mapped_column("display_name", sa.String(80))
    password_hash: Mapped[str] = mapped_column(sa.String(255), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.MEMBER)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    #: Partner staff who manage their own organisation: invite its staff and
    #: keep its resources (portal admins grant it on the partner's admin page).
    manages_organisation: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    locale: Mapped[str] = mapped_column(sa.String(10), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Part of the login cookie; raising it logs the account out everywhere.
    session_version: Mapped[int] = mapped_column(default=1)
    consent_notice_version: Mapped[str] = mapped_column(sa.String(20), default="")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: E-mail about needs this member submitted / follows.
    notify_own: Mapped[Delivery] = mapped_column(enum_column(Delivery), default=Delivery.IMMEDIATE)
    notify_followed: Mapped[Delivery] = mapped_column(enum_column(Delivery), default=Delivery.DAILY)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Staff two-factor sign-in (TOTP, RFC 6238). The secret must be readable
    #: to check codes; it is set only once a code from it was confirmed.
    totp_secret: Mapped[str] = mapped_column(sa.String(64), default="")
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The 30-second time step of the last accepted code: no code of that step
    #: or an earlier one is accepted again, so an overheard code cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: When an admin reset it; until it is set up again, login leads there.
    totp_reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the owner deleted the account: its personal data is gone, its
    #: public contributions stay, shown as by "a former member".
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "role != 'partner' OR organisation_id IS NOT NULL", name="partner_has_organisation"
        ),
        sa.CheckConstraint(
            "role = 'partner' OR NOT manages_organisation", name="manager_is_partner"
        ),
    )

    @hybrid_property
    def display_name(self) -> str:
        """The name shown next to comments, proposals and on staff pages; for a
        deleted account "a former member", in the reader's language."""
        if self.erased_at is not None:
            return str(FORMER_MEMBER)
        return self._display_name

    @display_name.inplace.setter
    def _set_display_name(self, value: str) -> None:
        self._display_name = value

    @display_name.inplace.expression
    @classmethod
    def _display_name_expression(cls):
        return cls._display_name

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_id(self) -> str:
        """The login cookie names the account and its session version, so a
        cookie issued before a logout or password change no longer loads."""
        return f"{self.id}:{self.session_version}"

    def end_all_sessions(self) -> None:
        self.session_version = (self.session_version or 0) + 1

    @property
    def is_member(self) -> bool:
        """Members support and vote; staff act for their organisation instead."""
        return self.role == Role.MEMBER

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_staff(self) -> bool:
        """Admins and partner staff: two-factor sign-in, short sessions, no remember-me."""
        return self.role in (Role.ADMIN, Role.PARTNER)

    @property
    def is_partner_admin(self) -> bool:
        """Partner staff who manage their own organisation's staff and resources."""
        return self.role == Role.PARTNER and self.manages_organisation

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)


def user_by_email(email: str) -> User | None:
    """The account of an address, as addresses are stored (trimmed, lower case).
    Here, below the account services and the login lock, because both need it."""
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


class LoginThrottle(db.Model):
    """Failed logins for one e-mail address, counted from every client address
    together, so that guessing one account's password from many addresses
    still ends in a lock. The key is an HMAC of the address, and a row exists
    for unknown addresses too: the lock (and its message) must not tell which
    addresses have accounts. The database holds it so that every worker and
    instance sees the same count, with or without Redis."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    #: The first failure of the current window; old rows are deleted by it.
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """One of a staff member's single-use codes for a lost phone. Only a hash is
    kept; the codes are shown once, when two-factor sign-in is set up."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "code_hash", name="uq_recovery_codes_user_code"),
    )
