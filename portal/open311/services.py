"""Open311 GeoReport v2: what the API reads and how a submitted request becomes
a need. The views parse the URL and render; the rules live here.

Status mapping (GeoReport v2 knows only `open` and `closed`):

- open: every public state not yet answered — open, routed, accepted,
  in_progress (the statuses with the `supportable` trait, portal.workflow.statuses);
- closed: answered — resolved and closed (with either outcome).

Unpublished and final non-public states (submitted, rejected, duplicate,
withdrawn) and needs kept private never appear: only listed needs
(`Need.is_listed`) are read.

`service_request_id` is the need's public reference (e.g. N-2026-000123), the
same one as in /needs/<ref>."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from portal.categories.models import Category, CategoryQuestion, QuestionKind
from portal.categories.questions import active_questions, choice_name, validate_answers
from portal.core.params import INT_MAX, bounded_date, bounded_int, bounded_text
from portal.extensions import db
from portal.forms import clean_text
from portal.i18n import current_locale_code
from portal.models_base import utcnow
from portal.needs import rules, submission
from portal.needs.location import public_point
from portal.needs.models import Channel, Need, NeedStatus
from portal.needs.services import Submission
from portal.notify.services import public_url
from portal.open311.formats import w3c_datetime
from portal.open311.models import ApiKey, RequestToken
from portal.open311.openapi import SPECIFICATION, api_base_url
from portal.partners.models import OPEN_ASSIGNMENT_STATES, Assignment
from portal.photos.services import first_public_photo_keys, photo_url
from portal.workflow.models import TimelineEvent
from portal.workflow.services import Actor
from portal.workflow.statuses import with_trait

OPEN = "open"
CLOSED = "closed"
#: GeoReport's two statuses: "open" while members may still support a need.
STATUS_GROUPS = {
    OPEN: with_trait("supportable"),
    CLOSED: with_trait("listed") - with_trait("supportable"),
}

#: When this API's behaviour last changed (discovery's changeset).
CHANGESET = datetime(2026, 3, 1, tzinfo=UTC)
RESULTS_MAX = 1000
#: Offset pagination stays bounded: page × page_size may not go beyond this.
OFFSET_MAX = 100_000
DATE_RANGE_MAX = timedelta(days=90)
IDS_MAX = 1000
#: Fields only the API has; the others follow `portal.needs.rules`, like the web form.
CLIENT_ID_MAX = 100
MEDIA_URL_MAX = 500
IDEMPOTENCY_KEY_MAX = 64
TOKEN_MAX = 64
_UNENCODED_PLUS = re.compile(r" (\d\d:?\d\d)$")
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,40})\](\[\])?$")
#: The timeline steps whose public text answers "what is happening": a progress
#: update, the partner's answer, or the reason a need was closed unresolved.
#: (Feedback and reopening carry the submitter's own words: never shown here.)
NOTE_MOVES = ("update", "resolve", "close_unresolved")


class Open311Error(Exception):
    """An answer other than 200: the HTTP status and the descriptions for the
    specification's error list (already translated)."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions[0] if descriptions else str(status))
        self.status = status
        self.descriptions = list(descriptions) or [str(status)]


# --- common -------------------------------------------------------------------------


def check_jurisdiction(value: str | None) -> None:
    """One jurisdiction is served: empty means absent, any other value is unknown."""
    value = (value or "").strip()
    expected = current_app.config.get("OPEN311_JURISDICTION", "huiju.example")
    if value and value != expected:
        raise Open311Error(404, _("Unknown jurisdiction_id “%(id)s”.", id=value[:100]))


def api_locale() -> str:
    """The language of names and descriptions: `?locale=` (zh_CN, zh-CN, en,
    en-US…), else Accept-Language, else the default. The cookie and the
    account's setting are left out: an API answer depends on the request only."""
    languages = current_app.config["LANGUAGES"]
    wanted = (request.args.get("locale") or "").strip().replace("-", "_").lower()
    if wanted:
        for code in languages:
            if code.lower() == wanted or code.split("_")[0].lower() == wanted.split("_")[0]:
                return code
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


# --- discovery and services -----------------------------------------------------------


def discovery() -> dict:
    developers = public_url("developers.index")
    changeset = w3c_datetime(CHANGESET)
    return {
        "changeset": changeset,
        "contact": _("See %(url)s", url=developers),
        "key_service": _("API keys are issued by the administrators: see %(url)s", url=developers),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": api_base_url(),
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def _keywords(category: Category) -> str:
    words = [category.code, category.name_zh, category.name_en]
    return ", ".join(dict.fromkeys(w for w in words if w))


def service_list() -> list[dict]:
    """One service per active category (two queries). `group` is the partner
    that handles the category by default: how the portal clusters its services."""
    categories = list(
        db.session.scalars(
            sa.select(Category)
            .options(joinedload(Category.default_partner))
            .where(rules.category_accepts_needs())
            .order_by(Category.position, Category.id)
        )
    )
    questions = active_questions([c.id for c in categories])
    return [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": category.description,
            "metadata": bool(questions.get(category.id)),
            "type": "realtime",
            "keywords": _keywords(category),
            "group": category.default_partner.name if category.default_partner else "",
        }
        for category in categories
    ]


def active_service(code: str) -> Category:
    category = db.session.scalar(
        sa.select(Category).where(Category.code == code, rules.category_accepts_needs())
    )
    if category is None:
        raise Open311Error(404, _("Unknown service_code “%(code)s”.", code=code[:100]))
    return category


def _attribute(question: CategoryQuestion, order: int) -> dict:
    attribute = {
        "variable": True,
        "code": question.code,
        "datatype": question.kind.value,
        "required": bool(question.required),
        "datatype_description": question.help or None,
        "order": order,
        "description": question.prompt,
    }
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        attribute["values"] = [
            {"key": str(choice.get("key", "")), "name": choice_name(question, choice.get("key"))}
            for choice in question.choices or []
        ]
    return attribute


def service_definition(code: str) -> dict:
    category = active_service(code)
    questions = active_questions([category.id]).get(category.id, [])
    return {
        "service_code": category.code,
        "attributes": [_attribute(q, n) for n, q in enumerate(questions, start=1)],
    }


# --- reading requests -----------------------------------------------------------------


def open311_status(status: NeedStatus) -> str:
    return OPEN if status.is_supportable else CLOSED


def parse_w3c_datetime(name: str, value: str) -> datetime:
    """A W3C date-time with an offset (Z or ±hh:mm) and optional fractions. A
    space before the offset is read as `+`: clients often leave the plus sign
    of a query string unencoded."""
    value = _UNENCODED_PLUS.sub(r"+\1", value.strip())
    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "Zz" else value)
    except ValueError:
        parsed = None
    if (
        parsed is None
        or "T" not in value.upper()
        or parsed.tzinfo is None
        or bounded_date(parsed) is None
    ):
        raise Open311Error(
            400,
            _(
                "%(name)s must be a W3C date-time with an offset, e.g. 2026-03-01T08:30:00+08:00.",
                name=name,
            ),
        )
    return parsed.astimezone(UTC)


def _comma_list(value: str) -> list[str]:
    parts = (bounded_text(part, TOKEN_MAX) for part in value.split(","))
    return list(dict.fromkeys(part for part in parts if part))


def _positive_int(args, name: str, default: int, maximum: int | None = None) -> int:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    value = bounded_int(raw, 1, maximum or INT_MAX)
    if value is None:
        if maximum is None:
            raise Open311Error(400, _("%(name)s must be a whole number from 1.", name=name))
        raise Open311Error(
            400,
            _("%(name)s must be a whole number from 1 to %(max)d.", name=name, max=maximum),
        )
    return value


@dataclass
class RequestQuery:
    """The filters of `GET requests`, checked."""

    ids: list[str] | None = None
    codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: frozenset[NeedStatus] = frozenset()
    page: int = 1
    page_size: int = RESULTS_MAX

    @classmethod
    def from_args(cls, args, now: datetime | None = None) -> RequestQuery:
        query = cls()
        query.page = _positive_int(args, "page", 1)
        query.page_size = _positive_int(args, "page_size", RESULTS_MAX, RESULTS_MAX)
        if (query.page - 1) * query.page_size >= OFFSET_MAX:
            raise Open311Error(
                400, _("Please narrow the search: at most %(max)d results.", max=OFFSET_MAX)
            )
        ids = _comma_list(args.get("service_request_id") or "")
        if ids:
            if len(ids) > IDS_MAX:
                raise Open311Error(400, _("At most %(max)d ids, please.", max=IDS_MAX))
            query.ids = ids
            return query  # the ids override every other filter
        codes = _comma_list(args.get("service_code") or "")
        query.codes = codes or None
        start_raw = (args.get("start_date") or "").strip()
        end_raw = (args.get("end_date") or "").strip()
        start = parse_w3c_datetime("start_date", start_raw) if start_raw else None
        end = parse_w3c_datetime("end_date", end_raw) if end_raw else None
        if start and end:
            if end < start:
                raise Open311Error(400, _("end_date must not be before start_date."))
            if end - start > DATE_RANGE_MAX:
                raise Open311Error(400, _("start_date and end_date may be at most 90 days apart."))
        elif start:
            end = start + DATE_RANGE_MAX
        else:
            end = end or (now or utcnow())
            start = end - DATE_RANGE_MAX
        query.start, query.end = start, end
        statuses: set[NeedStatus] = set()
        for word in _comma_list((args.get("status") or "").lower()):
            if word not in STATUS_GROUPS:
                raise Open311Error(400, _("status must be open, closed or both."))
            statuses |= STATUS_GROUPS[word]
        query.statuses = frozenset(statuses)
        return query


def _category_ids(codes: list[str]) -> list[int]:
    """The categories of these codes (active or not: their needs remain); an
    unknown code answers 404 as the specification asks."""
    rows = db.session.execute(sa.select(Category.code, Category.id).where(Category.code.in_(codes)))
    found = {code: category_id for code, category_id in rows}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise Open311Error(
            404, *[_("Unknown service_code “%(code)s”.", code=c[:100]) for c in unknown[:10]]
        )
    return list(found.values())


def find_requests(query: RequestQuery) -> list[Need]:
    """Listed needs, newest first, at most one page (one query; two with codes)."""
    stmt = (
        sa.select(Need)
        .options(joinedload(Need.category), joinedload(Need.assigned_organisation))
        .where(Need.is_listed.is_(True))
    )
    if query.ids is not None:
        stmt = stmt.where(Need.ref.in_(query.ids))
    else:
        if query.codes:
            stmt = stmt.where(Need.category_id.in_(_category_ids(query.codes)))
        stmt = stmt.where(Need.created_at >= query.start, Need.created_at <= query.end)
        if query.statuses:
            stmt = stmt.where(Need.status.in_(sorted(query.statuses)))
    stmt = stmt.order_by(Need.created_at.desc(), Need.id.desc())
    stmt = stmt.offset((query.page - 1) * query.page_size).limit(query.page_size)
    return list(db.session.scalars(stmt))


def listed_request(ref: str) -> Need:
    need = db.session.scalar(
        sa.select(Need)
        .options(joinedload(Need.category), joinedload(Need.assigned_organisation))
        .where(Need.ref == ref, Need.is_listed.is_(True))
    )
    if need is None:
        raise Open311Error(404, _("Unknown service_request_id “%(id)s”.", id=ref[:100]))
    return need


def _status_notes(need_ids: list[int]) -> dict[int, str]:
    """The latest public note of each need (one query)."""
    if not need_ids:
        return {}
    conditions = (
        TimelineEvent.need_id.in_(need_ids),
        TimelineEvent.move.in_(NOTE_MOVES),
        TimelineEvent.internal.is_(False),
        TimelineEvent.text != "",
    )
    latest = (
        sa.select(sa.func.max(TimelineEvent.id))
        .where(*conditions)
        .group_by(TimelineEvent.need_id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(TimelineEvent.need_id, TimelineEvent.text).where(TimelineEvent.id.in_(latest))
    )
    return {need_id: text for need_id, text in rows}


def _due_dates(needs: list[Need]) -> dict[int, datetime]:
    """The due date of each need's current open assignment (one query)."""
    routed = [n.id for n in needs if n.assigned_organisation_id is not None]
    if not routed:
        return {}
    rows = db.session.execute(
        sa.select(Assignment.need_id, Assignment.due_at)
        .join(Need, Need.id == Assignment.need_id)
        .where(
            Assignment.need_id.in_(routed),
            Assignment.organisation_id == Need.assigned_organisation_id,
            Assignment.state.in_(sorted(OPEN_ASSIGNMENT_STATES)),
        )
        .order_by(Assignment.id)
    )
    return {need_id: due_at for need_id, due_at in rows}  # the latest assignment wins


def _public_position(need: Need) -> dict:
    """lat and long rounded to about 100 m: the exact point is not public."""
    point = public_point(need)
    return {"lat": point.lat if point else None, "long": point.lon if point else None}


def describe_requests(needs: list[Need]) -> list[dict]:
    """The public fields of each need as a GeoReport v2 service request (three
    queries whatever the number of needs). Never the submitter's contact data:
    media_url is the need's first public photo on this portal, not the link a
    client may have posted (kept with the contact data)."""
    notes = _status_notes([n.id for n in needs])
    due = _due_dates(needs)
    photos = first_public_photo_keys([n.id for n in needs])
    return [
        {
            "service_request_id": need.ref,
            "status": open311_status(need.status),
            "status_notes": notes.get(need.id) or None,
            "service_name": need.category.name,
            "service_code": need.category.code,
            "description": need.body,
            "agency_responsible": (
                need.assigned_organisation.name if need.assigned_organisation else None
            ),
            "service_notice": str(need.status.label),
            "requested_datetime": w3c_datetime(need.created_at),
            "updated_datetime": w3c_datetime(need.updated_at),
            "expected_datetime": w3c_datetime(due.get(need.id)),
            "address": need.place or "",
            "address_id": "",
            "zipcode": "",
            **_public_position(need),
            "media_url": (
                photo_url(photos[need.id], "display", external=True) if need.id in photos else ""
            ),
        }
        for need in needs
    ]


def token_status(token: str) -> dict:
    """`tokens/<token>`: the id only once the need is public."""
    row = None
    if token and len(token) <= TOKEN_MAX:
        row = db.session.execute(
            sa.select(RequestToken.token, Need.ref, Need.is_listed)
            .join(Need, Need.id == RequestToken.need_id)
            .where(RequestToken.token == token)
        ).first()
    if row is None:
        raise Open311Error(404, _("Unknown token."))
    answer = {"token": row.token}
    if row.is_listed:
        answer["service_request_id"] = row.ref
    return answer


# --- submitting -----------------------------------------------------------------------


def raw_api_key() -> str:
    """The api_key from the query string or the body (urlencoded or multipart)."""
    return (request.args.get("api_key") or request.form.get("api_key") or "").strip()


def require_api_key(api_key: ApiKey | None, raw: str) -> ApiKey:
    """403 unless `api_key` (found by `apikeys.authenticate(raw)`) is active."""
    if not raw:
        raise Open311Error(403, _("api_key is required to submit a request."))
    if api_key is None:
        raise Open311Error(403, _("Invalid or revoked api_key."))
    return api_key


def _field(form, name: str, maximum: int, errors: list[str]) -> str:
    """The field's text (control characters dropped, as the web form does), or
    "" with an error when it is longer than `maximum`."""
    value = clean_text(form.get(name)) or ""
    if len(value) > maximum:
        errors.append(_("%(name)s: at most %(max)d characters.", name=name, max=maximum))
        return ""
    return value


def _coordinate(form, name: str, limits: rules.Range, errors: list[str]) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not limits.holds(value):
        errors.append(
            _("%(name)s must be a number from -%(max)d to %(max)d.", name=name, max=int(limits.max))
        )
        return None
    return value


def _email(form, errors: list[str]) -> str:
    value = clean_text(form.get("email")) or ""
    if not value:
        return ""
    if rules.EMAIL.too_long(value):
        errors.append(_("email: the address is too long."))
        return ""
    if not rules.email_is_valid(value):
        errors.append(_("email: please give a valid e-mail address."))
        return ""
    return value


def _phone(form, errors: list[str]) -> str:
    value = _field(form, "phone", rules.PHONE.max, errors)
    if not rules.phone_is_valid(value):
        errors.append(_("phone: use digits, spaces and + - ( ) only."))
        return ""
    return value


def _media_url(form, errors: list[str]) -> str:
    value = (form.get("media_url") or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if len(value) > MEDIA_URL_MAX or parts.scheme not in ("http", "https") or not parts.netloc:
        errors.append(_("media_url must be an http or https address."))
        return ""
    return value


def _consent(form, errors: list[str]) -> bool:
    """`consent=true`: the client's user agreed, in the client, to this portal's
    privacy notice; only then is a consent (and its version) recorded."""
    value = (form.get("consent") or "").strip().lower()
    if value in ("", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    errors.append(_("consent must be true or false."))
    return False


def raw_attributes(form) -> dict[str, list[str]]:
    """`attribute[code]` and `attribute[code][]` values by question code."""
    raw: dict[str, list[str]] = {}
    for key in form:
        match = ATTRIBUTE.match(key) if isinstance(key, str) else None
        if match:
            raw.setdefault(match.group(1), []).extend(form.getlist(key))
    return raw


def derive_title(description: str, service_name: str) -> str:
    """The first line of the description, shortened to the title's length; the
    service's name when that line is too short to say anything."""
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    title = rules.TITLE
    if title.too_long(first):
        first = first[: title.max - 1].rstrip() + "…"
    return service_name[: title.max] if title.too_short(first) else first


def _idempotency_key(api_key: ApiKey, form) -> str:
    """A new key per request, unless the client sends its own `idempotency_key`
    (an extension of the specification): a retry with the same value then
    returns the first request's token instead of creating a second need."""
    client_key = (form.get("idempotency_key") or "").strip()
    if not client_key:
        return secrets.token_hex(16)
    if len(client_key) > IDEMPOTENCY_KEY_MAX:
        raise Open311Error(
            400, _("idempotency_key: at most %(max)d characters.", max=IDEMPOTENCY_KEY_MAX)
        )
    # Keyed with the secret: nobody can compute the stored key of another
    # client's request (the tracking link is derived from it).
    secret = current_app.config["SECRET_KEY"].encode()
    message = f"open311:{api_key.id}:{client_key}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


@dataclass
class CreatedRequest:
    token: str
    need: Need
    account_id: str


def parse_request(form, api_key: ApiKey) -> Submission:
    """A POSTed request as a submission (channel API), checked with the web
    form's rules (`portal.needs.rules`) and the category's questions; every
    problem found is listed in one Open311Error."""
    code = (form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, _("service_code is required."))
    category = active_service(code)

    errors: list[str] = []
    lat = _coordinate(form, "lat", rules.LATITUDE, errors)
    lon = _coordinate(form, "long", rules.LONGITUDE, errors)
    if rules.position_problem(lat, lon) == rules.PositionProblem.HALF and not errors:
        errors.append(_("lat and long go together: please give both."))
    address = _field(form, "address_string", rules.PLACE.max, errors)
    address_id = _field(form, "address_id", rules.PLACE.max, errors)
    if not errors and lat is None and not address and not address_id:
        errors.append(_("A location is required: lat and long, address_string or address_id."))
    description = _field(form, "description", rules.DESCRIPTION.max, errors)
    if not description and not any(e.startswith("description") for e in errors):
        errors.append(_("description is required: please describe the request."))
    email = _email(form, errors)
    name_max = rules.NAME.max
    first_name = _field(form, "first_name", name_max, errors)
    last_name = _field(form, "last_name", name_max, errors)
    name = " ".join(part for part in (first_name, last_name) if part)
    if len(name) > name_max:
        errors.append(_("first_name and last_name: at most %(max)d characters.", max=name_max))
    phone = _phone(form, errors)
    device_id = _field(form, "device_id", CLIENT_ID_MAX, errors)
    account_id = _field(form, "account_id", CLIENT_ID_MAX, errors)
    media_url = _media_url(form, errors)
    consent = _consent(form, errors)

    questions = active_questions([category.id]).get(category.id, [])
    answers, answer_errors = validate_answers(questions, raw_attributes(form))
    for question in questions:
        if question.code in answer_errors:
            errors.append(f"attribute[{question.code}]: {answer_errors[question.code]}")
    if errors:
        raise Open311Error(400, *errors)

    return Submission(
        title=derive_title(description, category.name),
        body=description,
        category_id=category.id,
        # No address register here: an address_id is kept as the place text.
        place=address or address_id,
        email=email,
        idempotency_key=_idempotency_key(api_key, form),
        locale=current_locale_code(),
        channel=Channel.API,
        name=name[:name_max],
        phone=phone,
        lat=lat,
        lon=lon,
        device_id=device_id,
        account_id=account_id,
        media_url=media_url,
        consent=consent,
        answers=answers,
    )


def submit_request(form, api_key: ApiKey) -> CreatedRequest:
    """Check a POSTed request and create its need through the one submission
    service, with a token for the client in the same transaction. This
    function commits (`submit` does), so a retried idempotency key cannot
    duplicate."""
    data = parse_request(form, api_key)

    def issue_token(need: Need) -> None:
        db.session.add(
            RequestToken(token=secrets.token_hex(16), need_id=need.id, api_key_id=api_key.id)
        )
        db.session.flush()

    need, _tracking_token = submission.submit(data, Actor.public(), on_created=issue_token)
    token = db.session.scalar(
        sa.select(RequestToken.token)
        .where(RequestToken.need_id == need.id)
        .order_by(RequestToken.id)
        .limit(1)
    )
    if token is None or need.channel != Channel.API:
        raise Open311Error(400, _("idempotency_key was already used for another request."))
    return CreatedRequest(token=token, need=need, account_id=data.account_id)


def created_reply(created: CreatedRequest) -> list[dict]:
    reply = {
        "token": created.token,
        "service_notice": _(
            "Thank you. Your request will be published after review; "
            "follow the token to learn its service_request_id."
        ),
    }
    if created.account_id:
        reply["account_id"] = created.account_id
    return [reply]
