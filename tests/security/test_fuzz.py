"""Malformed input answers a clear 4xx, never a 5xx (issue 12, item 9).

Every rule of `app.url_map` is requested with its path arguments filled with
ids and references of a seeded world (as every role) and, in turn, with
hostile values; every page is then requested again with hostile values for
each query parameter it read (recorded while it was served) and for the
fields of its GET forms. Every POST form found on those pages, as the roles
that were shown it (anonymous, member, partner staff, admin), is sent with
each of its fields replaced in turn by hostile payloads (some as htmx
requests, with the form's hx-vals such as `_validate`), and whole as a JSON
body with non-string values and as an XML body (both must answer 415). An
Open311 POST with a valid api_key gets the same; POST rules no page offers a
form for get the payloads in a few generic fields.

Any 5xx fails the test with the role, method, URL, field, payload and the
exception the app logged, grouped by endpoint and cause. The payload families
are sampled per field with a fixed seed, so each test runs in well under a
minute per backend; every family still reaches every form.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import time
import traceback
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pyotp
import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from werkzeug.datastructures import ImmutableMultiDict

from portal.auth.models import User
from portal.auth.sessions import PENDING, stamp
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.partners.models import CoHandler, Organisation
from tests.conftest import csrf_token_from
from tests.forms import page_forms

SEED = 12
ROLES = ("anonymous", "member", "partner", "admin")

HUGE = "x" * 100_000
HUGE_INT = str(10**30)

#: Hostile values for a form field, by family. Bytes are sent raw in the body.
FIELD_PAYLOADS: dict[str, str | bytes | list[str]] = {
    "empty": "",
    "huge": HUGE,
    "nul": "a\x00b",
    "invalid-utf8": b"\xff\xfe\xc3(",
    "superscript": "²",
    "huge-int": HUGE_INT,
    "int32-overflow": str(2**31),
    "negative": "-1",
    "1e309": "1e309",
    "nan": "sNaN",
    "array": ["1", "2"],
    "crlf": "\r\nSet-Cookie: x=1",
    "far-date": "0001-01-01",
    "far-future": "9999-12-31",
    "far-future-time": "9999-12-31T23:59",
}
#: Families a field always gets when its value looks like a number or an id.
NUMERIC_FAMILIES = ("superscript", "huge-int", "int32-overflow", "negative", "1e309", "nan")
#: ... or like a date.
DATE_FAMILIES = ("far-date", "far-future", "far-future-time", "huge-int")
#: How many payload families each field gets (numeric and date fields get theirs on top).
FAMILIES_PER_FIELD = 3

#: Hostile values for a query parameter or a path argument, already URL-encoded.
URL_PAYLOADS: dict[str, str] = {
    "empty": "",
    "huge": HUGE,
    "nul": "%00",
    "invalid-utf8": "%FF%FE",
    "superscript": "%C2%B2",
    "huge-int": HUGE_INT,
    "int32-overflow": str(2**31),
    "int64-overflow": str(2**63),
    "negative": "-1",
    "1e309": "1e309",
    "crlf": "%0d%0aSet-Cookie:x",
    "far-date": "0001-01-01",
    "far-future": "9999-12-31",
    "far-future-time": "9999-12-31T23:59:59-12:00",
}
#: The query string gets arrays as well: the parameter repeated.
QUERY_PAYLOADS = {**URL_PAYLOADS, "array": None}
#: Parameters every page is tried with even when it does not read them itself,
#: with a few families.
COMMON_QUERY = ("next", "page")
COMMON_FAMILIES = ("huge", "superscript", "huge-int", "crlf")
#: Values a JSON body gives where a form has text.
JSON_VALUES = (1, [1], {"a": 1}, None, True, 1e308, -(10**30))

#: Forms whose success changes who is logged in or what others may do: fuzzed last.
LAST = ("auth.logout", "me.change_password", "users.set_active", "users.change_role")

CONVERTER = re.compile(r"<(?:[^:<>]+:)?(\w+)>")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- the seeded world -----------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User]
    values: dict[str, list[str]]  # path argument -> valid values, most interesting first
    pairs: dict[tuple[str, str], list[tuple[str, str]]]  # nested arguments that go together
    by_endpoint: dict[str, dict[str, list[str]]]  # values only right for one endpoint
    extra_pages: list[str]  # pages that show more forms with a query string
    api_key: str


def _seed() -> World:
    """The demo data (partners, categories, needs in every state, projects, a
    round, comments, photos), plus what makes the remaining forms appear."""
    from portal.areas.models import Area, organisation_areas
    from portal.audit.checks import QualityCheckError, draw_sample
    from portal.auth import tokens
    from portal.categories.models import CategoryQuestion
    from portal.comments.models import Comment, CommentReport, CommentState
    from portal.demo import load_demo_data
    from portal.moderation.services import add_term
    from portal.notify.models import Follow
    from portal.open311.apikeys import issue_key
    from portal.open311.models import RequestToken
    from portal.partners.cohandlers import add_co_handlers, ask_for_input
    from portal.partners.models import Assignment, Organisation
    from portal.partners.services import request_extension
    from portal.photos.models import Photo
    from portal.projects.models import Project, ProjectUpdate, UpdateState
    from portal.voting.services import create_round
    from portal.workflow.services import Actor, transition
    from tests.factories import make_need, make_user
    from tests.open311.conftest import make_lights_category

    load_demo_data()
    db.session.flush()
    by_email = {u.email: u for u in db.session.scalars(sa.select(User))}
    users = {
        "member": by_email["member@huiju.example"],
        # Partner staff who also manage their organisation (its own admin pages), which
        # is above a district union (the district's needs: read, reassign).
        "partner": by_email["union-admin@huiju.example"],
        "admin": by_email["admin@huiju.example"],
    }
    union = users["partner"].organisation
    youth = db.session.scalar(sa.select(Organisation).where(Organisation.name_en.contains("Youth")))
    lights = make_lights_category(default_partner=union)
    district = db.session.scalar(sa.select(Area).where(Area.parent_id.is_not(None)))
    # The partner serves an area, so its admin page offers the form that removes it.
    db.session.execute(
        organisation_areas.insert().values(organisation_id=union.id, area_id=district.id)
    )
    made = {
        status: make_need(status, category=lights, partner=union, area=district)
        for status in (
            NeedStatus.OPEN,
            NeedStatus.ROUTED,
            NeedStatus.IN_PROGRESS,
            NeedStatus.RESOLVED,
            NeedStatus.SUBMITTED,
        )
    }
    working, resolved, open_need = (
        made[NeedStatus.IN_PROGRESS][0],
        made[NeedStatus.RESOLVED][0],
        made[NeedStatus.OPEN][0],
    )
    due = db.session.scalar(sa.select(Assignment.due_at).where(Assignment.need_id == working.id))
    request_extension(working, users["partner"], due + timedelta(days=7), "More time")
    transferred = make_need(NeedStatus.ROUTED, category=lights, partner=youth, area=district)[0]
    admin = Actor.staff(users["admin"])  # proposes it to the partner, who may decline
    transition(transferred, "transfer", admin, text="Better placed", organisation=union)
    # Co-handling: the partner leads one with a supporter, and supports another.
    add_co_handlers(working, [youth], users["admin"])
    supported = make_need(NeedStatus.IN_PROGRESS, category=lights, partner=youth, area=district)[0]
    add_co_handlers(supported, [union], users["admin"])
    db.session.flush()
    ask_for_input(
        supported, union.id, users["admin"], "Volunteers?", utcnow().date() + timedelta(days=9)
    )
    db.session.add(Follow(user_id=users["member"].id, need_id=resolved.id))

    # Comments: one to report, one held for the moderators, one they hid.
    for number, state in enumerate(CommentState):
        comment = Comment(
            need_id=open_need.id,
            author_id=users["admin"].id,
            body=f"Comment {number}",
            client_token=f"fuzz-{number}",
            state=state,
            report_count=0 if state == CommentState.VISIBLE else 1,
        )
        db.session.add(comment)
        db.session.flush()
        if state != CommentState.VISIBLE:
            db.session.add(CommentReport(comment_id=comment.id, reporter_id=users["member"].id))

    api_key, raw_key = issue_key("Fuzz client", "100000 per hour", users["admin"])
    db.session.add(RequestToken(token="f" * 32, need_id=open_need.id, api_key_id=api_key.id))
    listed = list(db.session.scalars(sa.select(Need).where(Need.is_listed).limit(3)))
    ended = create_round(  # for a project made from a round's result
        title="Ended round",
        description="",
        needs=listed[:2],
        votes_per_member=1,
        starts_at=resolved.created_at - timedelta(days=20),
        ends_at=resolved.created_at - timedelta(days=10),
        show_live_counts=True,
        actor=users["admin"],
    )
    unverified = make_user(verified=False)
    today = resolved.created_at.date()
    with contextlib.suppress(QualityCheckError):  # a quality check sample of resolved needs
        draw_sample(2, today - timedelta(days=120), today, users["admin"])
    db.session.commit()

    photo = db.session.scalar(sa.select(Photo).order_by(Photo.id))
    photo.is_hidden = True  # the admin's need page offers to show it again
    # A listed term (the word list offers to remove it) and a held project update.
    add_term("加微信", users["admin"])
    project = db.session.scalar(sa.select(Project).order_by(Project.id))
    db.session.add(
        ProjectUpdate(
            project_id=project.id,
            organisation_id=union.id,
            author_id=users["partner"].id,
            body_markdown="加微信 for details",
            body_html="<p>加微信 for details</p>",
            state=UpdateState.HELD,
            held_for=["term:加微信"],
        )
    )
    # Staff with a second factor: /admin/users offers to reset it, and the
    # "pending" role is this account between its password and its code.
    with_two_factor = by_email["youth@huiju.example"]
    with_two_factor.totp_secret = pyotp.random_base32()
    with_two_factor.totp_enabled_at = utcnow()
    users["pending"] = with_two_factor
    db.session.commit()

    refs = [photo.need.ref, transferred.ref, *_refs(union.id)]
    questions = db.session.execute(
        sa.select(CategoryQuestion.category_id, CategoryQuestion.id).order_by(CategoryQuestion.id)
    ).all()
    first_question = questions[0]
    return World(
        users=users,
        values=_ids(union.id, lights.id) | {"ref": refs, "token": [t for _n, t in made.values()]},
        pairs=_pairs(questions),
        by_endpoint={
            "auth.reset": {"token": [tokens.make_token(users["member"], tokens.RESET)]},
            "auth.verify": {"token": [tokens.make_token(unverified, tokens.VERIFY)]},
            "open311.request_token": {"token": ["f" * 32]},
        },
        extra_pages=[
            f"/admin/categories/{first_question[0]}/questions?edit={first_question[1]}",
            f"/admin/projects/new?round={ended.id}",
            f"/admin/projects/new?need={listed[0].ref}&need={listed[1].ref}",
            f"/projects/proposals/new?need={listed[0].ref}",
            "/admin/calendar?start=2026-01-05&n=3",
            f"/needs/new?category={lights.code}",
            f"/staff/needs/new?category={lights.id}",
            "/admin/areas?parent=110000",
            "/areas/choices?area=110101",
        ],
        api_key=raw_key,
    )


def _refs(union_id: int) -> list[str]:
    """One need per status among the partner's (their pages show its actions),
    then one per status left."""
    refs: dict[NeedStatus, str] = {}
    union_needs = db.session.execute(
        sa.select(Need.status, Need.ref)
        .where(Need.assigned_organisation_id == union_id)
        .order_by(Need.id.desc())
    )
    below = db.session.scalars(  # led by an organisation under the union: its reassignment
        sa.select(Need.ref)
        .join(Organisation, Organisation.id == Need.assigned_organisation_id)
        .where(Organisation.parent_id == union_id)
        .limit(1)
    )
    for status, ref in [*union_needs, *db.session.execute(sa.select(Need.status, Need.ref))]:
        refs.setdefault(status, ref)
    supported = db.session.scalars(
        sa.select(Need.ref)
        .join(CoHandler, CoHandler.need_id == Need.id)
        .where(CoHandler.organisation_id == union_id)
    )
    return [*refs.values(), *supported, *below]


def _ids(union_id: int, lights_id: int) -> dict[str, list[str]]:
    from portal.audit.models import QualityCheck
    from portal.categories.models import Category
    from portal.comments.models import Comment
    from portal.open311.models import ApiKey
    from portal.partners.models import AssignmentRequest, Organisation
    from portal.photos.models import Photo
    from portal.projects.models import Project, ProjectProposal
    from portal.voting.models import PriorityRound
    from portal.workdays.models import CalendarDay

    def ids(model, *order) -> list[str]:
        stmt = sa.select(model.id).order_by(*order, model.id).limit(3)
        return [str(i) for i in db.session.scalars(stmt)]

    organisations = ids(Organisation, Organisation.id != union_id)
    users = db.session.scalars(sa.select(User.id).where(User.email.like("%@huiju.example")))
    return {
        "category_id": ids(Category, Category.id != lights_id),
        "org_id": organisations,
        "organisation_id": organisations,
        "user_id": [str(i) for i in users],
        "check_id": ids(QualityCheck),
        "comment_id": ids(Comment, Comment.id.desc()),
        "proposal_id": ids(ProjectProposal),
        "request_id": ids(AssignmentRequest),
        "key_id": ids(ApiKey),
        "project_id": ids(Project),
        "round_id": ids(PriorityRound),
        "code": ["lights", "roads"],
        "day": [d.isoformat() for d in db.session.scalars(sa.select(CalendarDay.day).limit(1))],
        "key": list(db.session.scalars(sa.select(Photo.key).order_by(Photo.id).limit(2))),
        "size": ["thumb", "display"],
        "filename": ["css/site.css"],
    }


def _pairs(questions) -> dict[tuple[str, str], list[tuple[str, str]]]:
    from portal.partners.models import OrganisationResource
    from portal.projects.models import Milestone, ResourceCommitment

    def rows(*columns) -> list[tuple[str, str]]:
        return [tuple(map(str, row)) for row in db.session.execute(sa.select(*columns).limit(2))]

    return {
        ("category_id", "question_id"): [tuple(map(str, row)) for row in questions[:3]],
        ("org_id", "resource_id"): rows(
            OrganisationResource.organisation_id, OrganisationResource.id
        ),
        ("project_id", "milestone_id"): rows(Milestone.project_id, Milestone.id),
        ("project_id", "commitment_id"): rows(ResourceCommitment.project_id, ResourceCommitment.id),
    }


def _path_arguments(rule) -> list[str]:
    return CONVERTER.findall(rule.rule)


def _valid_arguments(world: World, rule) -> list[dict[str, str]]:
    """A few sets of valid values for the rule's path arguments."""
    values = {**world.values, **world.by_endpoint.get(rule.endpoint, {})}
    columns: list[tuple[tuple[str, ...], list[tuple[str, ...]]]] = []
    left = set(_path_arguments(rule))
    for pair, rows in world.pairs.items():
        if set(pair) <= left and rows:
            columns.append((pair, rows))
            left -= set(pair)
    for name in sorted(left):
        columns.append(((name,), [(v,) for v in values.get(name) or ["1"]]))
    if not columns:
        return [{}]
    count = min(max(len(rows) for _names, rows in columns), 16)
    return [
        {n: v for names, rows in columns for n, v in zip(names, rows[i % len(rows)], strict=True)}
        for i in range(count)
    ]


def _url(rule, arguments: dict[str, str], *, raw: str | None = None, raw_name: str = "") -> str:
    """The rule's path with its arguments filled in; `raw` (already encoded) for `raw_name`."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name == raw_name and raw is not None:
            return raw
        return quote(str(arguments[name]), safe="")

    return CONVERTER.sub(fill, rule.rule)


# --- requests, as each role, with every 5xx written down --------------------------------


@dataclass
class Fuzzer:
    app: object
    world: World
    clients: dict = field(default_factory=dict)
    raw_csrf: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    logged: list[str] = field(default_factory=list)
    sent: int = 0

    def client(self, role: str):
        if role not in self.clients:
            self.clients[role] = self.app.test_client()
            self.log_in(role)
        return self.clients[role]

    def log_in(self, role: str) -> None:
        """(Again) as `role`, with the same CSRF token as before, whatever the last
        request did to the session (a logout, a password change)."""
        with self.client(role).session_transaction() as session:
            session.clear()
            if role == "pending":  # the password was right, the code is asked for
                user = self.world.users[role]
                db.session.refresh(user)
                session[PENDING] = {
                    "user": user.get_id(),
                    "at": int(time.time()),
                    "next": "/partner/inbox",
                    "set_up": False,
                }
            elif role != "anonymous":
                user = self.world.users[role]
                db.session.refresh(user)
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
                stamp(session)  # staff sessions carry their login time
            if role in self.raw_csrf:
                session["csrf_token"] = self.raw_csrf[role]

    def csrf(self, role: str) -> str:
        """A form token of this role's session; its raw value is kept for log_in."""
        if role not in self.tokens:
            client = self.client(role)
            self.tokens[role] = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
            with client.session_transaction() as session:
                self.raw_csrf[role] = session["csrf_token"]
        return self.tokens[role]

    def send(self, role: str, method: str, url: str, what: str, **kwargs):
        self.sent += 1
        self.logged.clear()
        try:
            response = self.client(role).open(url, method=method, **kwargs)
        except Exception as error:  # an error the error handlers did not catch
            self.fail(role, method, url, what, f"raised {type(error).__name__}: {error}")
            return None
        if response.status_code >= 500:
            self.fail(role, method, url, what, f"answered {response.status_code}")
        elif "x" in _cookie_names(response):
            self.fail(role, method, url, what, "set a cookie named in the request")
        return response

    def fail(self, role, method, url, what, outcome) -> None:
        shown = url if len(url) < 160 else url[:150] + f"…({len(url)} chars)"
        cause = self.logged[-1] if self.logged else "nothing logged"
        endpoint = _endpoint(self.app, method, url)
        self.failures.append((endpoint, cause, f"{outcome}: {role} {method} {shown} [{what}]"))


def _cookie_names(response) -> set[str]:
    return {h.split("=", 1)[0].strip().lower() for h in response.headers.getlist("Set-Cookie")}


def _endpoint(app, method: str, url: str) -> str:
    try:
        endpoint, _args = app.url_map.bind("localhost").match(urlsplit(url).path, method=method)
    except Exception:
        return "(no rule)"
    return endpoint


class _KeepExceptions(logging.Handler):
    """Notes what the app logged for a request: the exception and where in portal/."""

    def __init__(self, fuzzer: Fuzzer):
        super().__init__(logging.ERROR)
        self.fuzzer = fuzzer

    def emit(self, record: logging.LogRecord) -> None:
        if not (record.exc_info and record.exc_info[1] is not None):
            self.fuzzer.logged.append(record.getMessage()[:200])
            return
        error = record.exc_info[1]
        frames = [f for f in traceback.extract_tb(error.__traceback__) if "/portal/" in f.filename]
        where = f" at {frames[-1].filename.split('/portal/')[-1]}:{frames[-1].lineno}"
        message = (str(error).splitlines() or [""])[0][:200]
        self.fuzzer.logged.append(
            f"{type(error).__name__}: {message}{where if frames else ''}".replace("\n", " ")
        )


class RecordingArgs(ImmutableMultiDict):
    """Query and form data that note which names the app asked for."""

    read: set[str] = set()

    def __getitem__(self, key):
        RecordingArgs.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 — MultiDict's signature
        RecordingArgs.read.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        RecordingArgs.read.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        RecordingArgs.read.add(key)
        return super().__contains__(key)


@pytest.fixture
def fuzzer(app) -> Iterator[Fuzzer]:
    world = _seed()

    class Recording(app.request_class):
        parameter_storage_class = RecordingArgs

    request_class, app.request_class = app.request_class, Recording
    fuzzer = Fuzzer(app=app, world=world)
    handler = _KeepExceptions(fuzzer)
    app.logger.addHandler(handler)
    try:
        yield fuzzer
    finally:
        app.logger.removeHandler(handler)
        app.request_class = request_class  # the app serves the next tests too


def _assert_no_failures(fuzzer: Fuzzer) -> None:
    """Fail with one example request per endpoint and cause, and how often it happened."""
    if not fuzzer.failures:
        return
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for endpoint, cause, request in fuzzer.failures:
        grouped[(endpoint, cause)].append(request)
    lines = [
        f"{endpoint} ({len(requests)}×): {requests[0]}\n    {cause}"
        for (endpoint, cause), requests in sorted(grouped.items())
    ]
    pytest.fail(
        f"{len(fuzzer.failures)} of {fuzzer.sent} requests failed:\n" + "\n".join(lines),
        pytrace=False,
    )


# --- GET: every rule, with valid and hostile path arguments and query strings -----------


@dataclass
class Page:
    role: str
    url: str
    endpoint: str
    status: int
    reads: set[str]
    html: str


def _crawl(fuzzer: Fuzzer) -> list[Page]:
    """Every GET rule with valid arguments and the extra pages, as every role;
    the pages that answered (not with a redirect)."""
    urls = []
    for rule in sorted(fuzzer.app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" in rule.methods:
            urls += [_url(rule, arguments) for arguments in _valid_arguments(fuzzer.world, rule)]
    pages = []
    for url in [*urls, *fuzzer.world.extra_pages]:
        for role in ROLES:
            RecordingArgs.read = set()
            response = fuzzer.send(role, "GET", url, "valid arguments")
            if response is None or 300 <= response.status_code < 400:
                continue
            endpoint = _endpoint(fuzzer.app, "GET", url)
            html = ""
            if response.mimetype == "text/html" and endpoint != "static":
                html = response.get_data(as_text=True)
            reads = set(RecordingArgs.read)
            pages.append(Page(role, url, endpoint, response.status_code, reads, html))
    return pages


def _get_form_fields(html: str) -> set[str]:
    """The fields of the page's GET forms (search boxes, filters)."""
    return {name for f in page_forms(html) if f["method"] == "get" for name in f["fields"]}


@pytest.mark.committed  # as in production: real commits, no savepoints
def test_no_route_answers_5xx_to_hostile_paths_or_queries(fuzzer):
    pages = [page for page in _crawl(fuzzer) if page.status == 200]
    seen = {page.endpoint for page in pages}
    assert {"needs.index", "users.index", "partner.inbox", "me.index", "needs.track"} <= seen

    # Path arguments: each in turn replaced by each hostile value, as the role that
    # could open the page with valid ones (else an admin), with every method.
    role_of: dict[str, str] = {}
    for page in pages:
        role_of.setdefault(page.endpoint, page.role)
    for rule in fuzzer.app.url_map.iter_rules():
        arguments = _valid_arguments(fuzzer.world, rule)[0]
        role = role_of.get(rule.endpoint, "admin")
        for name in _path_arguments(rule):
            for family, raw in URL_PAYLOADS.items():
                url = _url(rule, arguments, raw=raw, raw_name=name)
                what = f"path <{name}> = {family}"
                if "GET" in rule.methods:
                    fuzzer.send(role, "GET", url, what)
                if "POST" in rule.methods:
                    fuzzer.send(role, "POST", url, what, data={"csrf_token": fuzzer.csrf(role)})

    # Query strings: every parameter a page read (as any role) or offers in a GET
    # form gets every hostile value, as the first role that read it; parameters
    # many pages take from links (next, page) get a few on every page.
    tried: dict[str, dict[str, Page]] = defaultdict(dict)
    for page in pages:
        if page.endpoint != "static":
            for name in sorted(page.reads | _get_form_fields(page.html) | set(COMMON_QUERY)):
                tried[page.endpoint].setdefault(name, page)
    for _endpoint_name, names in sorted(tried.items()):
        for name, page in sorted(names.items()):
            read = name in page.reads or name in _get_form_fields(page.html)
            for family, raw in QUERY_PAYLOADS.items():
                if not read and family not in COMMON_FAMILIES:
                    continue
                key = quote(name, safe="")
                query = f"{key}=1&{key}=2" if raw is None else f"{key}={raw}"
                separator = "&" if "?" in page.url else "?"
                url = f"{page.url}{separator}{query}"
                fuzzer.send(page.role, "GET", url, f"?{name} = {family}")

    _assert_no_failures(fuzzer)


# --- POST: every form of every page, field by field, and whole bodies -----------------


@dataclass
class FormCase:
    endpoint: str
    action: str
    fields: dict[str, str]
    hx_vals: dict[str, str]
    options: dict[str, list[str]]
    roles: list[str]


def _forms(fuzzer: Fuzzer, pages: list[Page]) -> list[FormCase]:
    """The POST forms on the pages: one per action rule and set of fields, with
    every role that was shown it; the ones that log out or lock out go last."""
    found: dict[tuple, FormCase] = {}
    for page in pages:
        for form in page_forms(page.html):
            if form["method"] != "post":
                continue
            action = form["action"] or page.url
            endpoint = _endpoint(fuzzer.app, "POST", action)
            fields = {**form["fields"], **form["buttons"]}
            key = (endpoint, tuple(sorted(fields)))
            case = found.setdefault(
                key, FormCase(endpoint, action, fields, form["hx_vals"], form["options"], [])
            )
            if page.role not in case.roles:
                case.roles.append(page.role)
    return sorted(found.values(), key=lambda c: (c.endpoint in LAST, c.endpoint, c.action))


def _open311_case(world: World) -> FormCase:
    """An Open311 POST with a valid api_key, every documented field filled in."""
    fields = {
        "api_key": world.api_key,
        "jurisdiction_id": "huiju.example",
        "service_code": "lights",
        "lat": "31.23",
        "long": "121.47",
        "address_string": "Heping Road 1",
        "description": "The street light is dark at night.",
        "email": "someone@example.org",
        "first_name": "Li",
        "phone": "13800000000",
        "device_id": "device-1",
        "media_url": "https://example.org/photo.jpg",
        "attribute[kind]": "dark",
        "attribute[when][]": "night",
        "idempotency_key": "fuzz-1",
    }
    action = "/open311/v2/requests.json"
    return FormCase("open311.requests", action, fields, {}, {}, ["anonymous"])


def _plan(case: FormCase) -> dict[str, list[str]]:
    """Which payload families each field gets: FAMILIES_PER_FIELD of them in a
    shuffled cycle (fixed seed) so that together the fields get every family;
    numeric and date fields get theirs too. A form of just a button gets them
    in its CSRF token."""
    names = [n for n in case.fields if n != "csrf_token"] or ["csrf_token"]
    families = list(FIELD_PAYLOADS)
    random.Random(f"{SEED}:{case.endpoint}").shuffle(families)
    cycle = iter(families * (len(names) * FAMILIES_PER_FIELD // len(families) + 2))
    plan = {name: [next(cycle) for _ in range(FAMILIES_PER_FIELD)] for name in names}
    given = {family for chosen in plan.values() for family in chosen}
    for i, family in enumerate(f for f in families if f not in given):
        plan[names[i % len(names)]].append(family)
    for name in names:
        value = case.fields.get(name, "")
        numbers = [v for v in [value, *case.options.get(name, [])] if v.strip().isdigit()]
        if numbers or name in ("page", "item", "position"):
            plan[name] += [f for f in NUMERIC_FAMILIES if f not in plan[name]]
        elif DATE.match(value) or "date" in name or name.endswith(("_on", "_at")):
            plan[name] += [f for f in DATE_FAMILIES if f not in plan[name]]
    return plan


def _encode(pairs: list[tuple[str, str | bytes]]) -> bytes:
    """An urlencoded body; bytes values go in raw (invalid UTF-8, as a browser never sends)."""
    return b"&".join(
        quote(name, safe="").encode()
        + b"="
        + (value if isinstance(value, bytes) else quote(value, safe="").encode())
        for name, value in pairs
    )


def _fuzz_form(fuzzer: Fuzzer, case: FormCase) -> None:
    roles = case.roles
    for role in roles:
        fuzzer.log_in(role)
    sent = 0

    def post(fields: dict, what: str, *, htmx: bool = False, **kwargs):
        nonlocal sent
        role = roles[sent % len(roles)]
        sent += 1
        headers = kwargs.pop("headers", {})
        if htmx:
            headers = {**headers, "HX-Request": "true", "HX-Trigger-Name": what.split(" ")[0]}
            fields = {**case.hx_vals, **fields}
        if "data" not in kwargs:
            fields = {"csrf_token": fuzzer.csrf(role), **fields}
            pairs = [
                (name, item)
                for name, value in fields.items()
                for item in (value if isinstance(value, list) else [value])
            ]
            kwargs["data"] = _encode(pairs)
            kwargs["content_type"] = "application/x-www-form-urlencoded"
        else:
            headers = {**headers, "X-CSRFToken": fuzzer.csrf(role)}
        return role, fuzzer.send(role, "POST", case.action, what, headers=headers, **kwargs)

    given = {n: v for n, v in case.fields.items() if n != "csrf_token"}
    for name, families in _plan(case).items():
        for i, family in enumerate(families):
            fields = {**given, name: FIELD_PAYLOADS[family]}
            htmx = i % 3 == 2 or bool(case.hx_vals and i % 2)
            post(fields, f"{name} = {family}", htmx=htmx)
    post({name: b"\xff\xfe" for name in given}, "every field invalid UTF-8")

    # Whole bodies that are not forms: 415, whoever sends them (with a CSRF header).
    values = {n: JSON_VALUES[i % len(JSON_VALUES)] for i, n in enumerate(case.fields)}
    xml = "".join(f"<{n}>1</{n}>" for n in case.fields if re.fullmatch(r"\w+", n))
    for what, body, content_type in (
        ("JSON body", json.dumps(values), "application/json"),
        ("XML body", f'<?xml version="1.0"?><form>{xml}</form>', "text/xml"),
    ):
        role, response = post({}, what, data=body, content_type=content_type)
        if response is not None and response.status_code != 415:
            outcome = f"answered {response.status_code}, not 415"
            fuzzer.fail(role, "POST", case.action, what, outcome)


def _second_factor_case() -> FormCase:
    """The code step of a staff login: its form is only on the page between the
    password and the code, which the crawl (as logged-in roles) never is."""
    return FormCase("auth.two_factor", "/auth/two-factor", {"code": "123456"}, {}, {}, ["pending"])


@pytest.mark.committed  # as in production: real commits, no savepoints
def test_no_form_answers_5xx_to_hostile_fields(fuzzer):
    # Every hostile code counts as a failed login: keep the account open to go on.
    fuzzer.app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 10**6
    pages = _crawl(fuzzer)
    cases = [*_forms(fuzzer, pages), _second_factor_case()]
    posted = {case.endpoint for case in cases}
    rules = {rule.endpoint for rule in fuzzer.app.url_map.iter_rules() if "POST" in rule.methods}
    assert rules - posted == {"open311.requests"}  # every other POST rule has a form
    for case in [*cases, _open311_case(fuzzer.world)]:
        _fuzz_form(fuzzer, case)

    _assert_no_failures(fuzzer)


# --- the causes the audit saw, one by one ---------------------------------------------


FORMS_ONLY = (
    "This address accepts only forms (application/x-www-form-urlencoded or multipart/form-data)."
)


def test_a_json_or_xml_body_to_a_form_answers_415_with_a_translated_message(client, csrf_token):
    from tests.factories import make_category

    make_category()
    db.session.commit()
    token = csrf_token()
    client.set_cookie("locale", "en")
    for kwargs in (
        {"json": {"title": 1, "category": [1], "consent": True}},
        {"data": "<need><title>x</title></need>", "content_type": "text/xml"},
        {"data": "title=x", "content_type": "text/plain"},
    ):
        for headers in ({"X-CSRFToken": token}, {}):  # refused before the CSRF check
            response = client.post("/needs/new", headers=headers, **kwargs)
            assert response.status_code == 415, kwargs
            assert FORMS_ONLY in response.get_data(as_text=True)
    client.set_cookie("locale", "zh_CN")
    response = client.post("/needs/new", json={"title": 1}, headers={"X-CSRFToken": token})
    with force_locale("zh_CN"):  # whatever the catalogue says (translations/pending/fuzz.json)
        expected = gettext(FORMS_ONLY)
    assert expected in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Need.id))) == 0
    # Forms, multipart forms and buttons without a body still work.
    assert client.post("/needs/new", data={"csrf_token": token}).status_code == 422
    multipart = client.post(
        "/needs/new", data={"csrf_token": token}, content_type="multipart/form-data"
    )
    assert multipart.status_code == 422


def test_open311_answers_415_in_its_own_error_format(client, api_key):
    from tests.open311.conftest import assert_errors, make_lights_category

    make_lights_category()
    db.session.commit()
    fields = {"api_key": api_key, "service_code": "lights", "description": 1, "lat": [31]}
    response = client.post("/open311/v2/requests.json", json=fields)
    assert "application/x-www-form-urlencoded" in assert_errors(response, 415)[0]
    xml = client.post("/open311/v2/requests.xml", data="<x/>", content_type="text/xml")
    assert_errors(xml, 415, "xml")
    # Its documented types are unchanged: a form is read (and found incomplete here).
    form = client.post("/open311/v2/requests.json", data={**fields, "description": ""})
    assert_errors(form, 400)


@pytest.fixture
def api_key(app) -> str:
    from tests.open311.conftest import make_api_key

    make_api_key("fuzz-key-0123456789")
    db.session.commit()
    return "fuzz-key-0123456789"


@pytest.mark.parametrize(
    "next_url", ["/needs\r\nSet-Cookie: x=1", "/needs%0d%0aSet-Cookie:x=1", "/" + "a" * 5000]
)
def test_a_crlf_in_next_after_login_is_no_header(client, csrf_token, next_url):
    from tests.factories import make_user

    password = "Lantern orchard galaxy 47"  # noqa: S105 — a test account
    user = make_user(password=password)
    db.session.commit()
    response = client.post(
        "/auth/login",
        data={"csrf_token": csrf_token("/auth/login"), "email": user.email, "password": password},
        query_string={"next": next_url},
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location
    assert "x" not in _cookie_names(response)
    if "%0d" in next_url:  # already encoded: a path of this site, followed as it is
        assert location.endswith(next_url)
    else:
        assert location.endswith("/me")


def test_a_huge_category_in_a_live_check_is_a_form_error(client, csrf_token):
    """The audit's anonymous `_validate` POST with category=10**30 (500 on
    PostgreSQL: NumericValueOutOfRange)."""
    from tests.factories import make_category

    make_category()
    db.session.commit()
    client.set_cookie("locale", "en")
    for category in (HUGE_INT, str(2**31), "²", "-1", "1e309"):
        response = client.post(
            "/needs/new",
            data={"csrf_token": csrf_token(), "_validate": "1", "category": category},
            headers={"HX-Request": "true", "HX-Trigger-Name": "category"},
        )
        assert response.status_code == 200, category
        assert "Please choose a category." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        f"/projects/{HUGE_INT}",
        f"/rounds/{2**31}",
        "/partners/%C2%B2",
        "/needs/%00",
        f"/track/{'x' * 1000}",
    ],
)
def test_ids_and_references_out_of_range_answer_404(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "query",
    [f"before={HUGE_INT}", "after=%C2%B2", "category=-1", "q=%00", "category=1e309"],
)
def test_hostile_list_parameters_show_the_list(client, query):
    assert client.get(f"/needs?{query}").status_code == 200
