"""Screening what people write before it is published, and the admins' list
of sensitive terms.

`screen()` answers whether a comment, project update or need text should wait
for a moderator: it contains a listed term, it has more links than its author
may post, or (comments only) pre-moderation is on. Admins' own texts are not
screened. Callers store the reasons with the held item, so the moderator
reads why.

The compiled matcher is kept per process and keyed by the list's version, a
random value stored in the settings table and replaced on every change of the
list: each process reads that one row per screening and rebuilds its matcher
only when the value differs, so every server sees an admin's change at once.
Nothing here commits."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record
from portal.auth.models import Role, User
from portal.comments.models import Comment, CommentState
from portal.core.models import Setting
from portal.core.settings import (
    COMMENT_PREMODERATION,
    LINKS_MIN_CONTRIBUTIONS,
    LINKS_PER_TEXT,
    get_settings,
    int_value,
)
from portal.domain import DomainError
from portal.extensions import db
from portal.models_base import dialect_insert, insert_if_absent, utcnow
from portal.moderation.links import count_links
from portal.moderation.matching import Matcher, Term, term_key
from portal.moderation.models import TERM_MAX, SensitiveTerm, TermKind
from portal.needs.models import Need

#: The settings row whose value changes with every change of the term list.
TERMS_VERSION = "sensitive_terms_version"
TERMS_PER_PAGE = 100
TERMS_MAX_PAGE = 1000
#: An imported file: at most this many bytes and lines.
IMPORT_MAX_BYTES = 256 * 1024
IMPORT_MAX_LINES = 10_000


class ModerationError(DomainError):
    """A refusal the admin should read (translated), about one form field."""


# --- the policy and the matcher ---------------------------------------------------


@dataclass(frozen=True)
class Policy:
    version: str
    premoderation: bool
    links_per_text: int
    links_min_contributions: int


def current_policy() -> Policy:
    """The list version and the content settings: one query."""
    values = get_settings(
        TERMS_VERSION, COMMENT_PREMODERATION, LINKS_PER_TEXT, LINKS_MIN_CONTRIBUTIONS
    )
    return Policy(
        version=values[TERMS_VERSION],
        premoderation=values[COMMENT_PREMODERATION] == "1",
        links_per_text=int_value(values, LINKS_PER_TEXT),
        links_min_contributions=int_value(values, LINKS_MIN_CONTRIBUTIONS),
    )


_compiled: tuple[str, Matcher] | None = None
_compiling = threading.Lock()


def matcher_for(version: str) -> Matcher:
    """The matcher of this version of the list, built at most once per process
    and version (a lock keeps two threads from building it twice)."""
    global _compiled
    compiled = _compiled
    if compiled is not None and compiled[0] == version:
        return compiled[1]
    with _compiling:
        compiled = _compiled
        if compiled is not None and compiled[0] == version:
            return compiled[1]
        rows = db.session.execute(sa.select(SensitiveTerm.key, SensitiveTerm.term))
        matcher = Matcher(Term(key, term) for key, term in rows)
        _compiled = (version, matcher)
        return matcher


def _bump_version() -> None:
    """A new random version (not a counter: two admins changing the list at
    once still leave a value no process has compiled)."""
    version = secrets.token_hex(8)
    db.session.execute(
        dialect_insert(Setting)
        .values(key=TERMS_VERSION, value=version)
        .on_conflict_do_update(index_elements=["key"], set_={"value": version})
    )


# --- screening -------------------------------------------------------------------


@dataclass
class Screening:
    terms: list[str] = field(default_factory=list)  # the listed terms found, as listed
    links: int = 0
    link_limit: int | None = None  # the limit the text went over, if it did
    premoderation: bool = False

    @property
    def held(self) -> bool:
        return bool(self.terms) or self.link_limit is not None or self.premoderation

    def reasons(self) -> list[dict]:
        """What is stored with a held item (JSON) and shown to moderators."""
        reasons: list[dict] = [{"kind": "term", "term": term} for term in self.terms]
        if self.link_limit is not None:
            reasons.append({"kind": "links", "count": self.links, "limit": self.link_limit})
        if self.premoderation:
            reasons.append({"kind": "premoderation"})
        return reasons


def _is_exempt(author: User | None) -> bool:
    return author is not None and getattr(author, "role", None) == Role.ADMIN


def _is_new_writer(author: User | None) -> bool:
    """Members and people without an account must earn links; partner staff
    write for their organisation and have the per-text limit only."""
    return author is None or getattr(author, "role", Role.MEMBER) == Role.MEMBER


def approved_contributions(user_ids) -> dict[int, int]:
    """Published comments and needs of each account: one query."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    rows = sa.union_all(
        sa.select(Comment.author_id.label("user_id")).where(
            Comment.author_id.in_(ids), Comment.state == CommentState.VISIBLE
        ),
        sa.select(Need.submitter_id.label("user_id")).where(
            Need.submitter_id.in_(ids), Need.published_at.is_not(None)
        ),
    ).subquery()
    counts = db.session.execute(sa.select(rows.c.user_id, sa.func.count()).group_by(rows.c.user_id))
    return {user_id: count for user_id, count in counts}


def _over_limit(links: int, author: User | None, policy: Policy, contributions) -> int | None:
    """The limit `links` goes over, or None. `contributions` is asked only
    when it matters (a new writer's text with a link or two)."""
    if links == 0:
        return None
    if links > policy.links_per_text:
        return policy.links_per_text
    if policy.links_min_contributions and _is_new_writer(author):
        earned = contributions(author.id) if author is not None else 0
        if earned < policy.links_min_contributions:
            return 0
    return None


def screen(text: str, author: User | None, *, comment: bool = False) -> Screening:
    """Whether `text` by `author` waits for a moderator, and why. `comment`:
    the pre-moderation setting applies (it is for comments only)."""
    if _is_exempt(author):
        return Screening()
    policy = current_policy()
    found = Screening(
        terms=matcher_for(policy.version).find(text),
        links=count_links(text),
        premoderation=comment and policy.premoderation,
    )
    found.link_limit = _over_limit(
        found.links,
        author,
        policy,
        lambda user_id: approved_contributions([user_id]).get(user_id, 0),
    )
    return found


def need_flags(needs) -> dict:
    """What the triage queue and the admin need page show about each need
    (title and body as one text, by its submitter): {need id: Screening},
    only the needs that would be held. Needs are flagged, not held: they wait
    for an admin anyway. At most four queries for any number of needs (the
    policy, a new matcher, and for needs with a link or two, the submitters'
    roles and contributions)."""
    needs = list(needs)
    if not needs:
        return {}
    policy = current_policy()
    matcher = matcher_for(policy.version)
    screenings = {}
    for need in needs:
        text = f"{need.title}\n{need.body}"
        screenings[need.id] = Screening(terms=matcher.find(text), links=count_links(text))
    asked = {
        need.submitter_id
        for need in needs
        if need.submitter_id is not None and 0 < screenings[need.id].links <= policy.links_per_text
    }
    writers: dict[int, SimpleNamespace] = {}
    earned: dict[int, int] = {}
    if asked and policy.links_min_contributions:
        rows = db.session.execute(sa.select(User.id, User.role).where(User.id.in_(asked)))
        writers = {user_id: SimpleNamespace(id=user_id, role=role) for user_id, role in rows}
        earned = approved_contributions(asked)
    for need in needs:
        found = screenings[need.id]
        author = None  # no account: a new writer
        if need.submitter_id is not None:
            # The role matters only for the submitters asked about above.
            member = SimpleNamespace(id=need.submitter_id, role=Role.MEMBER)
            author = writers.get(need.submitter_id, member)
        found.link_limit = _over_limit(
            found.links, author, policy, lambda user_id: earned.get(user_id, 0)
        )
    return {need_id: found for need_id, found in screenings.items() if found.held}


# --- the term list ------------------------------------------------------------------


@dataclass
class TermsPage:
    terms: list[SensitiveTerm]
    total: int
    page: int
    has_next: bool


def bounded_page(value: str | None) -> int:
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        return 1
    return min(max(int(value), 1), TERMS_MAX_PAGE)


def terms_page(q: str = "", page: int = 1) -> TermsPage:
    """The newest terms first; `q` finds terms by their folded letters."""
    stmt = sa.select(SensitiveTerm)
    key = term_key(q)[:TERM_MAX]
    if key:
        stmt = stmt.where(SensitiveTerm.key.contains(key, autoescape=True))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = list(
        db.session.scalars(
            stmt.order_by(SensitiveTerm.id.desc())
            .limit(TERMS_PER_PAGE + 1)
            .offset((page - 1) * TERMS_PER_PAGE)
        )
    )
    return TermsPage(rows[:TERMS_PER_PAGE], total or 0, page, len(rows) > TERMS_PER_PAGE)


def _clean_term(term: str) -> tuple[str, str]:
    term = " ".join((term or "").split())
    key = term_key(term)
    if not key:
        raise ModerationError(_("A term needs at least one letter or digit."), "term")
    if len(term) > TERM_MAX or len(key) > TERM_MAX:
        raise ModerationError(_("A term must be at most %(max)d characters.", max=TERM_MAX), "term")
    return term, key


def add_term(term: str, actor: User, kind: TermKind = TermKind.HOLD) -> SensitiveTerm:
    """Add one term; another spelling of a listed term is refused (the
    database's unique key decides, also when two admins add it at once)."""
    term, key = _clean_term(term)
    inserted = insert_if_absent(
        SensitiveTerm, term=term, key=key, kind=kind, created_by_id=actor.id, created_at=utcnow()
    )
    row = db.session.scalar(sa.select(SensitiveTerm).where(SensitiveTerm.key == key))
    if not inserted or row is None:
        listed = row.term if row is not None else term
        raise ModerationError(_("“%(term)s” is already on the list.", term=listed), "term")
    _bump_version()
    record(actor, "moderation.term_add", row, after={"term": row.term, "kind": row.kind.value})
    return row


def remove_term(row: SensitiveTerm, actor: User) -> None:
    record(actor, "moderation.term_remove", row, before={"term": row.term, "kind": row.kind.value})
    db.session.delete(row)
    db.session.flush()
    _bump_version()


@dataclass
class ImportResult:
    added: int
    already: int  # lines whose term was listed, or repeated in the file


def parse_term_file(data: bytes) -> list[str]:
    """The terms of an uploaded file: UTF-8 text (a BOM is allowed), one term
    per line; blank lines and lines starting with # are skipped. A file that
    is not that is refused as a whole, saying why."""
    if len(data) > IMPORT_MAX_BYTES:
        raise ModerationError(
            _("The file is larger than %(size)d KB.", size=IMPORT_MAX_BYTES // 1024), "file"
        )
    if b"\x00" in data:
        raise ModerationError(_("This is not a text file: one term per line, UTF-8."), "file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ModerationError(
            _("The file is not UTF-8 text. Save it as UTF-8 and send it again."), "file"
        ) from error
    lines = text.splitlines()
    if len(lines) > IMPORT_MAX_LINES:
        raise ModerationError(
            _("The file has more than %(max)d lines.", max=IMPORT_MAX_LINES), "file"
        )
    terms = []
    for number, line in enumerate(lines, start=1):
        line = " ".join(line.split())
        if not line or line.startswith("#"):
            continue
        if len(line) > TERM_MAX:
            raise ModerationError(
                _(
                    "Line %(line)d is longer than %(max)d characters.",
                    line=number,
                    max=TERM_MAX,
                ),
                "file",
            )
        terms.append(line)
    if not terms:
        raise ModerationError(_("The file holds no terms."), "file")
    return terms


def import_terms(data: bytes, actor: User, filename: str = "") -> ImportResult:
    """Add every term of the file that is not listed yet: one INSERT … ON
    CONFLICT DO NOTHING, so duplicates (in the file or the list) are skipped
    and counted, never an error."""
    lines = parse_term_file(data)
    unique: dict[str, str] = {}
    for line in lines:
        key = term_key(line)
        if key and len(key) <= TERM_MAX:
            unique.setdefault(key, line)
    added = 0
    if unique:
        now = utcnow()
        rows = [
            {
                "term": term,
                "key": key,
                "kind": TermKind.HOLD,
                "created_by_id": actor.id,
                "created_at": now,
            }
            for key, term in unique.items()
        ]
        for start in range(0, len(rows), 500):
            inserted = db.session.execute(
                dialect_insert(SensitiveTerm)
                .values(rows[start : start + 500])
                .on_conflict_do_nothing()
                .returning(SensitiveTerm.id)
            )
            added += len(inserted.all())
    result = ImportResult(added=added, already=len(lines) - added)
    if added:
        _bump_version()
    record(
        actor,
        "moderation.terms_import",
        SimpleNamespace(__tablename__=SensitiveTerm.__tablename__, key="import"),
        after={"file": filename[:100], "lines": len(lines), "added": result.added},
    )
    return result
