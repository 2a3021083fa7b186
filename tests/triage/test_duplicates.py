"""Merging a duplicate: supports and follows move exactly, counts are recounted,
the submitter is told; bad references change nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.notify.models import Follow, OutboxEmail
from portal.notify.services import follow
from portal.voting.models import Support
from portal.voting.services import support_need
from tests.factories import make_category, make_need, make_user


def _need(need) -> Need:
    db.session.expire_all()
    return db.session.get(Need, need.id)


def _rows(model, need) -> set[int]:
    return set(db.session.scalars(sa.select(model.user_id).where(model.need_id == need.id)))


@pytest.fixture
def pair():
    category = make_category()
    kept, _ = make_need(NeedStatus.OPEN, category=category, title="Noise from the night market")
    dup, _ = make_need(
        NeedStatus.OPEN, category=category, title="Night market too loud", email="dup@example.org"
    )
    db.session.commit()
    return kept, dup


def test_merge_moves_supports_and_follows_without_doubles(client, admin, post, pair):
    kept, dup = pair
    both, only_dup, only_kept = make_user(), make_user(), make_user()
    for user in (both, only_kept):
        support_need(kept, user)
        follow(kept, user)
    for user in (both, only_dup):
        support_need(dup, user)
        follow(dup, user)
    db.session.commit()
    assert (_need(kept).support_count, _need(dup).support_count) == (2, 2)
    emails_before = db.session.scalar(sa.select(sa.func.count(OutboxEmail.id)))

    response = post(
        f"/admin/needs/{dup.ref}/duplicate", {"duplicate_of": kept.ref.lower(), "origin": "row"}
    )

    assert response.status_code == 303
    merged = _need(dup)
    assert merged.status == NeedStatus.DUPLICATE and merged.duplicate_of_id == kept.id
    assert _rows(Support, kept) == {both.id, only_dup.id, only_kept.id}
    assert _rows(Support, dup) == set()
    assert _rows(Follow, kept) == {both.id, only_dup.id, only_kept.id}
    assert _rows(Follow, dup) == set()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Support).where(Support.user_id == both.id)
        )
        == 1
    )
    assert _need(kept).support_count == 3
    assert merged.support_count == 0
    # The submitter of the duplicate hears about it (through the outbox).
    to = db.session.scalars(
        sa.select(OutboxEmail.to_address).order_by(OutboxEmail.id).offset(emails_before)
    ).all()
    assert "dup@example.org" in to
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(
                AuditEntry.action == "need.mark_duplicate"
            )
        )
        == 1
    )
    # The public page of the duplicate points to the kept need.
    public = client.get(f"/needs/{dup.ref}")
    assert public.status_code == 301 and public.headers["Location"].endswith(f"/needs/{kept.ref}")


def test_merge_with_htmx_swaps_the_row(client, admin, post, pair):
    kept, dup = pair
    response = post(
        f"/admin/needs/{dup.ref}/duplicate", {"duplicate_of": kept.ref, "origin": "row"}, htmx=True
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="need-row-{dup.id}"' in html and f"Merged into {kept.ref}." in html


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Give the reference of the need to keep"),
        ("lamp", "This is not a need reference"),
        ("N-2026-999999", "No need has this reference."),
        ("SELF", "A need cannot duplicate itself."),
    ],
)
def test_bad_references_change_nothing(client, admin, post, pair, value, message):
    kept, dup = pair
    support_need(dup, make_user())
    db.session.commit()
    value = dup.ref if value == "SELF" else value
    response = post(f"/admin/needs/{dup.ref}/duplicate", {"duplicate_of": value})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    need = _need(dup)
    assert need.status == NeedStatus.OPEN and need.duplicate_of_id is None
    assert need.support_count == 1 and len(_rows(Support, dup)) == 1


def test_cannot_merge_into_a_rejected_need(client, admin, post, pair):
    _kept, dup = pair
    rejected, _ = make_need(NeedStatus.REJECTED)
    db.session.commit()
    response = post(f"/admin/needs/{dup.ref}/duplicate", {"duplicate_of": rejected.ref})
    assert response.status_code == 422
    assert "only be merged into an active need" in response.get_data(as_text=True)
    assert _need(dup).status == NeedStatus.OPEN


def test_suggestions_by_title_words_and_reference(client, admin, pair):
    kept, dup = pair
    other, _ = make_need(NeedStatus.OPEN, title="Potholes on Main Road")
    db.session.commit()
    response = client.get(
        f"/admin/needs/{dup.ref}/duplicates",
        query_string={"q": "market", "origin": "row"},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert kept.ref in html and other.ref not in html
    assert f'name="duplicate_of" value="{dup.ref}"' not in html  # never itself
    by_ref = client.get(
        f"/admin/needs/{dup.ref}/duplicates", query_string={"duplicate_of": other.ref}
    ).get_data(as_text=True)
    assert other.ref in by_ref and "<html" in by_ref  # a full page without htmx
    similar = client.get(f"/admin/needs/{dup.ref}/duplicates").get_data(as_text=True)
    assert kept.ref in similar  # similar titles when nothing is typed


def test_suggestion_forms_post_inline_or_plain(client, admin, pair):
    kept, dup = pair
    inline = client.get(
        f"/admin/needs/{dup.ref}/duplicates",
        query_string={"q": "market", "origin": "row"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert f'hx-target="#need-row-{dup.id}"' in inline and 'hx-boost="false"' not in inline
    page = client.get(f"/admin/needs/{dup.ref}/duplicates", query_string={"q": "market"})
    html = page.get_data(as_text=True)
    assert 'hx-boost="false"' in html and "hx-post" not in html.split('id="main"')[1]
