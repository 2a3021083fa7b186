"""The audit log: filters, keyset pages, escaping, and rows nobody can change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.extensions import db
from tests.factories import make_user


def _entry(actor, action="user.role_change", *, object_type="users", object_id="1", at=None, **kw):
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_role=actor.role.value if actor else "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=kw.get("before", {}),
        after=kw.get("after", {}),
        client_address=kw.get("client_address", ""),
        created_at=at or datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    )
    db.session.add(entry)
    return entry


def test_the_log_shows_who_did_what_escaped(client, admin):
    _entry(
        admin,
        "category.update",
        object_type="categories",
        object_id="7",
        before={"name_en": "<b>old</b>"},
        after={"name_en": "<script>alert(1)</script>"},
        client_address="203.0.113.9",
        at=datetime(2026, 3, 1, 18, 30, tzinfo=UTC),
    )
    db.session.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "category.update" in page and "categories 7" in page
    assert admin.email in page
    assert "2026-03-01 18:30:00 UTC" in page
    assert "Mar 2, 2026, 2:30:00" in page  # local time, Asia/Shanghai
    assert "203.0.113.9" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;old&lt;/b&gt;" in page
    assert "<form" not in page.split('id="audit-results"')[1]  # nothing to edit or delete


def test_filters_narrow_the_log(client, admin):
    other = make_user(Role.ADMIN)
    other.email = "zhang.wei@example.org"
    _entry(admin, "user.role_change", object_id="5", at=datetime(2026, 3, 1, 3, tzinfo=UTC))
    _entry(
        other,
        "category.update",
        object_type="categories",
        object_id="9",
        at=datetime(2026, 3, 5, 3, tzinfo=UTC),
    )
    _entry(
        None,
        "need.publish",
        object_type="needs",
        object_id="N-2026-000001",
        at=datetime(2026, 3, 9, 3, tzinfo=UTC),
    )
    db.session.commit()

    def shown(query: str) -> set[str]:
        page = client.get(f"/admin/audit?{query}").get_data(as_text=True)
        return {a for a in ("user.role_change", "category.update", "need.publish") if a in page}

    assert shown("") == {"user.role_change", "category.update", "need.publish"}
    assert shown("actor=ZHANG") == {"category.update"}
    assert shown("action=user.") == {"user.role_change"}
    assert shown("action=%25") == set()  # a wildcard is a plain character here
    assert shown("object_type=needs&object_id=N-2026-000001") == {"need.publish"}
    assert shown("object_type=users&object_id=6") == set()
    assert shown("date_from=2026-03-05") == {"category.update", "need.publish"}
    assert shown("date_to=2026-03-05") == {"user.role_change", "category.update"}
    assert shown("date_from=2026-03-05&date_to=2026-03-05") == {"category.update"}
    assert shown("date_from=garbage") == {"user.role_change", "category.update", "need.publish"}
    fragment = client.get("/admin/audit?action=need", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="audit-results"')
    assert "need.publish" in html and "category.update" not in html


def test_the_log_pages_newest_first_by_keyset(client, admin, queries):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(3):
        _entry(admin, f"test.small{i}", at=start + timedelta(minutes=i))
    db.session.commit()
    with queries() as small:
        assert client.get("/admin/audit").status_code == 200
    for i in range(120):
        _entry(admin, f"test.step{i:03d}", at=start + timedelta(hours=i))
    db.session.commit()
    with queries() as large:
        page = client.get("/admin/audit?action=test.step").get_data(as_text=True)
    assert len(large) == len(small)
    assert page.count('class="card audit-entry"') == 50
    assert page.index("test.step119") < page.index("test.step070")
    assert "test.step069" not in page
    last_id = db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.action == "test.step070"))
    assert f"before={last_id}" in page
    with queries() as older:
        page = client.get(f"/admin/audit?action=test.step&before={last_id}").get_data(as_text=True)
    assert len(older) == len(small)
    assert "test.step069" in page and "test.step020" in page and "test.step070" not in page
    assert "after=" in page  # a way back to newer entries
    newer_id = db.session.scalar(
        sa.select(AuditEntry.id).where(AuditEntry.action == "test.step069")
    )
    page = client.get(f"/admin/audit?action=test.step&after={newer_id}").get_data(as_text=True)
    assert "test.step070" in page and "test.step119" in page and "test.step069" not in page


def test_the_orm_refuses_to_change_or_delete_audit_rows(app, admin):
    entry = _entry(admin)
    db.session.commit()
    entry.action = "forged"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "user.role_change"


def test_postgresql_refuses_raw_sql_changes_to_audit_rows(app, admin):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    entry = _entry(admin)
    db.session.commit()
    for statement in (
        "UPDATE audit_entries SET action = 'forged'",
        "DELETE FROM audit_entries",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "user.role_change"
