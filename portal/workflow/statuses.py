"""What each status of a need means, in one table.

Every other module asks here (`need.status.is_supportable`,
`Need.status.in_(with_trait("listed"))`) instead of spelling a list of
statuses, so a new status is one row of TRAITS (and its moves in
`portal.workflow.services.MOVES`). The status columns store the value as a
short string through `StatusType`, which accepts every status known here, so
a status registered at run time (`register_status`, e.g. by a test or an
extension) is stored, read back, listed and shown like the built-in ones.
This module imports nothing of the portal, so the models can use it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l


class _Described:
    """What a status answers about itself, from its row of TRAITS."""

    @property
    def label(self) -> str:
        return str(TRAITS[self].label)

    @property
    def traits(self) -> Traits:
        return TRAITS[self]

    # Each trait, asked of the status itself: `need.status.is_supportable`.
    is_listed = property(lambda self: TRAITS[self].listed)
    is_supportable = property(lambda self: TRAITS[self].supportable)
    is_editable = property(lambda self: TRAITS[self].editable)
    is_withdrawable = property(lambda self: TRAITS[self].withdrawable)
    in_triage = property(lambda self: TRAITS[self].in_triage)
    is_with_partner = property(lambda self: TRAITS[self].with_partner)
    is_in_work = property(lambda self: TRAITS[self].in_work)
    is_terminal = property(lambda self: TRAITS[self].terminal)


class NeedStatus(_Described, enum.StrEnum):
    SUBMITTED = "submitted"
    OPEN = "open"
    ROUTED = "routed"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"


class AddedStatus(_Described, str):
    """A status registered at run time with `register_status`: a string (its
    stored value) that answers like a NeedStatus member."""

    __slots__ = ()

    @property
    def value(self) -> str:
        return str.__str__(self)

    @property
    def name(self) -> str:
        return self.value.upper()

    def __repr__(self) -> str:
        return f"<AddedStatus {self.value}>"


class Clock(enum.StrEnum):
    """Whether a partner's deadlines count in this status."""

    NONE = "none"  # not with a partner yet, or the loop is over
    RUNNING = "running"
    PAUSED = "paused"  # with a partner, but waiting for someone else


@dataclass(frozen=True)
class Traits:
    label: object  # a lazy string
    #: Shown to the public once published (listed on /needs, counted publicly).
    listed: bool = False
    #: Published and not yet answered: members may support it; Open311 "open".
    supportable: bool = False
    #: Admins may still correct its title and category.
    editable: bool = False
    #: Its submitter may still withdraw it.
    withdrawable: bool = False
    #: It waits in the admins' triage queue.
    in_triage: bool = False
    #: A partner holds it: the partner sees the contact and may ask for time.
    with_partner: bool = False
    #: The partner has taken it on and reports progress.
    in_work: bool = False
    clock: Clock = Clock.NONE
    #: The loop is over for good: no move leaves it; contact retention counts from here.
    terminal: bool = False


S = NeedStatus
TRAITS: dict[NeedStatus | AddedStatus, Traits] = {
    S.SUBMITTED: Traits(_l("Awaiting review"), editable=True, withdrawable=True, in_triage=True),
    S.OPEN: Traits(
        _l("Open"),
        listed=True,
        supportable=True,
        editable=True,
        withdrawable=True,
        in_triage=True,
    ),
    S.ROUTED: Traits(
        _l("Sent to a partner"),
        listed=True,
        supportable=True,
        editable=True,
        withdrawable=True,
        with_partner=True,
        clock=Clock.RUNNING,
    ),
    S.ACCEPTED: Traits(
        _l("Accepted"),
        listed=True,
        supportable=True,
        editable=True,
        withdrawable=True,
        with_partner=True,
        in_work=True,
        clock=Clock.RUNNING,
    ),
    S.IN_PROGRESS: Traits(
        _l("In progress"),
        listed=True,
        supportable=True,
        editable=True,
        withdrawable=True,
        with_partner=True,
        in_work=True,
        clock=Clock.RUNNING,
    ),
    S.RESOLVED: Traits(_l("Resolved"), listed=True),
    S.CLOSED: Traits(_l("Closed"), listed=True, terminal=True),
    S.REJECTED: Traits(_l("Rejected"), terminal=True),
    S.DUPLICATE: Traits(_l("Duplicate"), terminal=True),
    S.WITHDRAWN: Traits(_l("Withdrawn"), terminal=True),
}

TRAIT_NAMES = frozenset(f.name for f in fields(Traits)) - {"label", "clock"}


#: The statuses added at run time, by value, in the order they were added.
_ADDED: dict[str, AddedStatus] = {}

#: The longest status value the columns hold.
STATUS_LENGTH = 20


def register_status(value: str, traits: Traits) -> AddedStatus:
    """Add a status (its moves go into `portal.workflow.services.MOVES`).
    Every query, filter and page that asks by trait then includes it."""
    if not value or len(value) > STATUS_LENGTH or value in TRAITS:
        raise ValueError(f"status {value!r} is empty, too long or exists")
    status = _ADDED[value] = AddedStatus(value)
    TRAITS[status] = traits
    return status


def unregister_status(value: str) -> None:
    status = _ADDED.pop(value, None)
    if status is not None:
        TRAITS.pop(status, None)


def status_for(value: str) -> NeedStatus | AddedStatus:
    """The status stored as `value`; ValueError for an unknown one."""
    try:
        return NeedStatus(value)
    except ValueError:
        if value in _ADDED:
            return _ADDED[value]
        raise


def all_statuses() -> list[NeedStatus | AddedStatus]:
    """Every status, in the order of the loop, the added ones last."""
    return [*NeedStatus, *_ADDED.values()]


def with_trait(name: str) -> frozenset[NeedStatus | AddedStatus]:
    """The statuses that have this trait, for queries (`Need.status.in_(…)`)."""
    if name not in TRAIT_NAMES:
        raise KeyError(name)
    return frozenset(status for status, traits in TRAITS.items() if getattr(traits, name))


def in_order(statuses) -> list[NeedStatus | AddedStatus]:
    """In the order of the loop (for filters and charts)."""
    return [status for status in all_statuses() if status in statuses]


class StatusType(sa.types.TypeDecorator):
    """A need's status in a column: its value as a short string, read back as
    the status itself. Unlike an Enum type it knows the statuses added at run
    time; an unknown value is refused before it reaches the database."""

    impl = sa.String(STATUS_LENGTH)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else status_for(str(value)).value

    def process_result_value(self, value, dialect):
        return None if value is None else status_for(value)
