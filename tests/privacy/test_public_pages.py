"""No personal data on any public page, fragment, feed or export.

The demo data is seeded, then every personal field is overwritten with a
marker: submitters' contact e-mails, names and phone numbers, every account's
e-mail, the names of staff and of members who did not choose to speak in
public (commenters' display names are what they publish), internal notes and
private feedback comments. An anonymous visitor then crawls the site from the
home page — every link, every htmx fragment of a page, every download and
feed — and the tracking page of one need is checked for the other needs'
markers. No marker may appear anywhere."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.comments.models import Comment
from portal.demo import load_demo_data
from portal.extensions import db
from portal.feedback.models import Feedback
from portal.needs.models import Need, NeedContact
from portal.needs.services import new_idempotency_key
from portal.projects.models import Project
from portal.workflow.models import TimelineEvent
from tests.core.test_access import PUBLIC

MARK = "privmark"  # every marker contains this (case-insensitive) …
PHONE = "1399990"  # … or this digit run (phone numbers)
#: Every need gets an exact position whose last decimals are this digit run:
#: only the point rounded to three decimals (about 100 m) may be public.
POSITION = "987654"
MAX_PAGES = 1500
#: Links not followed: other people's private or state-changing pages, and
#: pagination beyond what proves the listing (the same template repeats).
SKIP = re.compile(r"^/(auth/|static/|track/|me\b|admin\b|partner\b|staff\b)")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.fragments: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in ("a", "link") and values.get("href"):
            self.links.append(values["href"])
        if values.get("hx-get"):
            self.fragments.append(values["hx-get"])


def _mark_personal_data() -> dict[str, str]:
    """Overwrite every personal field with markers; returns a token of one need."""
    commenters = set(db.session.scalars(sa.select(Comment.author_id)))
    for user in db.session.scalars(sa.select(User)):
        user.email = f"{MARK}-user{user.id}@example.net"
        if user.id not in commenters:
            user.display_name = f"PrivMark Name {user.id}"
    for contact in db.session.scalars(sa.select(NeedContact)):
        contact.email = f"{MARK}-contact{contact.need_id}@example.net"
        contact.name = f"PRIVMARK 联系人 {contact.need_id}"
        contact.phone = f"+86 {PHONE}{contact.need_id:04d}"
    for need in db.session.scalars(sa.select(Need)):
        need.lat = 39.9 + (need.id % 50) / 1000 + float(f"0.000{POSITION}")
        need.lon = 116.4 + (need.id % 50) / 1000 + float(f"0.000{POSITION}")
    for event in db.session.scalars(sa.select(TimelineEvent).where(TimelineEvent.internal)):
        event.text = f"PrivMark internal note {event.id}"
    for feedback in db.session.scalars(sa.select(Feedback)):
        feedback.comment = f"PrivMark private feedback {feedback.id}"
    db.session.flush()


@pytest.fixture
def seeded(app):
    load_demo_data()
    _mark_personal_data()
    # One need with an internal note and contact markers even if the demo has none.
    need = db.session.scalar(sa.select(Need).where(Need.is_listed).order_by(Need.id))
    db.session.add(
        TimelineEvent(
            need_id=need.id,
            move="note",
            from_status=need.status,
            to_status=need.status,
            actor_role="partner",
            organisation_id=need.assigned_organisation_id,
            text="PrivMark staff note",
            internal=True,
        )
    )
    db.session.commit()
    return need


def _assert_clean(url: str, response) -> None:
    if response.content_type.startswith("image/"):  # photos: redrawn, no text inside
        data = response.get_data().lower()
        assert MARK.encode() not in data and PHONE.encode() not in data, url
        assert POSITION.encode() not in data, url
        return
    body = response.get_data(as_text=True)
    lowered = body.lower()
    assert MARK not in lowered, (url, lowered[max(0, lowered.find(MARK) - 200) :][:400])
    assert PHONE not in body, url
    assert POSITION not in body, (url, body[max(0, body.find(POSITION) - 200) :][:400])


def _crawl(client, start: list[str]) -> tuple[set[str], set[str]]:
    """Visit every same-site link reachable from `start`; returns the URLs and
    the endpoints seen."""
    app = client.application
    adapter = app.url_map.bind("localhost")
    queue, seen, endpoints = list(start), set(), set()
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path in seen or SKIP.match(path):
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code < 500, path
        _assert_clean(path, response)
        try:
            endpoints.add(adapter.match(parts.path, method="GET")[0])
        except Exception:  # noqa: S112 — a redirect target or 404, nothing to record
            continue
        if "html" not in response.content_type:
            continue
        parser = _Links()
        parser.feed(response.get_data(as_text=True))
        for fragment in parser.fragments:
            target = urljoin(path, fragment)
            fragment_response = client.get(target, headers={"HX-Request": "true"})
            _assert_clean(f"{target} (fragment)", fragment_response)
            endpoints.add(adapter.match(urlsplit(target).path, method="GET")[0])
        for link in parser.links:
            queue.append(urljoin(path, link).split("#")[0])
    return seen, endpoints


def test_no_personal_data_on_any_public_page_fragment_feed_or_export(client, seeded):
    client.set_cookie("locale", "en")
    # Pages no link leads to without many comments or a filled-in form.
    extra = [f"/needs/{seeded.ref}/comments", "/needs/similar?title=停车"]
    # The nearby hint, around the positions every need was given.
    extra += ["/needs/similar?title=停车&lat=39.91&lon=116.41", "/data/needs.csv"]
    extra += [f"/projects/{p}/comments" for p in db.session.scalars(sa.select(Project.id))]
    extra.append(f"/posters/place?category={seeded.category.code}&place=Heping+Road")
    # The machine-readable outputs: Open311 (both formats) and its description.
    extra += [f"/open311/v2/{name}" for name in ("services.json", "services.xml")]
    extra += [f"/open311/v2/requests.{fmt}" for fmt in ("json", "xml")]
    extra += [f"/open311/v2/requests/{seeded.ref}.{fmt}" for fmt in ("json", "xml")]
    extra += ["/open311/v2/discovery.json", "/open311/v2/openapi.json", "/developers"]
    seen, endpoints = _crawl(client, ["/", "/needs", "/needs?q=%E5%81%9C%E8%BD%A6", *extra])
    client.set_cookie("locale", "zh_CN")
    _crawl(client, ["/", "/projects", "/partners"])

    # The crawl reached every kind of public page (the pages that need a
    # private token or a fresh submission are checked below or elsewhere).
    unreachable = {
        "static",
        "needs.submitted",
        "needs.track",
        "needs.withdraw",
        "needs.erase_contact",  # behind the private tracking link
        "needs.withdraw_and_erase",
        "auth.verify",
        "auth.reset",
        "auth.check_email",
        "auth.resend_verification",
        "core.set_locale",
        "core.healthz",
        "feedback.by_submitter",  # a POST from the private tracking page
    }
    missing = {e for e in PUBLIC - unreachable if not e.startswith(("auth.", "open311."))}
    assert missing - endpoints == set(), sorted(missing - endpoints)
    assert len(seen) > 50
    # The positions were there to leak, and are shown rounded.
    rounded = f"{round(seeded.lat, 3)}, {round(seeded.lon, 3)}"
    assert rounded in client.get(f"/needs/{seeded.ref}").get_data(as_text=True)


def test_the_tracking_page_shows_no_other_submitters_data(client, seeded):
    from portal.needs.services import Submission, submit_need
    from portal.workflow.services import Actor

    category_id = seeded.category_id
    need, token = submit_need(
        Submission(
            title="My own need",
            body="Only I hold the link to this page.",
            category_id=category_id,
            place="",
            email="own@example.org",
            idempotency_key=new_idempotency_key(),
            locale="en",
        ),
        Actor.public(),
    )
    db.session.commit()
    response = client.get(f"/track/{token}")
    assert response.status_code == 200
    _assert_clean(f"/track/{token}", response)
    for variant in (f"/track/{token}?page=2", f"/needs/{seeded.ref}"):
        _assert_clean(variant, client.get(variant, headers={"HX-Request": "true"}))
