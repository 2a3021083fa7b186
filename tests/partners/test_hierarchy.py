"""The organisations' hierarchy (issue 14, item 4): a city federation above its
district unions, above their street unions. The paths stay right when an
organisation is created or moved, and a cycle is refused; an organisation
reads the needs those under it handle (their page, read only, and an inbox
section) and may reassign them within its own subtree; a child never reads
its parent's or a sibling's needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.audit.models import AuditEntry
from portal.auth.models import Role, User
from portal.extensions import db
from portal.metrics.services import compute
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.partners import hierarchy
from portal.partners.cohandlers import add_co_handlers
from portal.partners.models import Assignment, AssignmentState, Organisation
from portal.partners.workspace import is_routed_to
from portal.workflow.models import TimelineEvent
from portal.workflow.services import Actor, record_event
from tests.conftest import audit_rows, csrf_token_from
from tests.factories import make_category, make_need, make_organisation, make_user
from tests.forms import form_for
from tests.partners.conftest import Partner, assignments_of, fresh, snapshot


def _paths() -> dict[str, str]:
    db.session.expire_all()
    return {o.name_en: o.path for o in db.session.scalars(sa.select(Organisation))}


# --- the tree and its paths -------------------------------------------------------


def test_paths_are_set_on_creation_and_rewritten_for_the_subtree_on_a_move(app):
    city = make_organisation(name_en="City")
    district = make_organisation(name_en="District", parent=city)
    street = make_organisation(name_en="Street", parent=district)
    other = make_organisation(name_en="Other city")
    assert _paths() == {
        "City": f"/{city.id}/",
        "District": f"/{city.id}/{district.id}/",
        "Street": f"/{city.id}/{district.id}/{street.id}/",
        "Other city": f"/{other.id}/",
    }

    assert hierarchy.move_organisation(district, other)
    db.session.flush()
    assert _paths() == {
        "City": f"/{city.id}/",
        "District": f"/{other.id}/{district.id}/",
        "Street": f"/{other.id}/{district.id}/{street.id}/",
        "Other city": f"/{other.id}/",
    }
    assert not hierarchy.move_organisation(district, other)  # already there

    hierarchy.move_organisation(district, None)  # to the top
    db.session.flush()
    assert _paths()["Street"] == f"/{district.id}/{street.id}/"
    assert fresh_org(district).parent_id is None


def fresh_org(org: Organisation) -> Organisation:
    db.session.expire_all()
    return db.session.get(Organisation, org.id)


def test_the_subtree_is_one_range_of_paths(app):
    city = make_organisation()
    district = make_organisation(parent=city)
    street = make_organisation(parent=district)
    make_organisation()  # elsewhere
    # Ids 1 and 10 share a first digit: the range must not mix "/1/" and "/10/".
    for _ in range(8):
        make_organisation()
    ten = make_organisation(parent=city)
    assert ten.id >= 10
    ids = set(db.session.scalars(hierarchy.subtree_ids(city.path)))
    assert ids == {city.id, district.id, street.id, ten.id}
    strict = set(db.session.scalars(hierarchy.subtree_ids(district.path, strict=True)))
    assert strict == {street.id}


def test_an_organisation_cannot_go_under_itself_or_one_below_it(app):
    city = make_organisation()
    district = make_organisation(parent=city)
    street = make_organisation(parent=district)
    for parent in (city, district, street):
        with (
            force_locale("en"),
            pytest.raises(hierarchy.HierarchyError, match="cannot be placed under itself"),
        ):
            hierarchy.move_organisation(city, parent)
    assert _paths()[city.name_en] == f"/{city.id}/"


def test_the_tree_has_a_bounded_depth(app):
    chain = [make_organisation()]
    for _ in range(hierarchy.MAX_DEPTH - 2):
        chain.append(make_organisation(parent=chain[-1]))
    top, leaf = make_organisation(), make_organisation()
    assert hierarchy.move_organisation(leaf, chain[-1])  # the last level allowed
    with force_locale("en"), pytest.raises(hierarchy.HierarchyError, match="at most 6 levels"):
        hierarchy.move_organisation(chain[0], top)  # its subtree would go one deeper
    with pytest.raises(hierarchy.HierarchyError):
        hierarchy.move_organisation(top, leaf)
    assert len(leaf.lineage_ids) == hierarchy.MAX_DEPTH


# --- the admins place an organisation ------------------------------------------------


PARTNER_FORM = {"name_zh": "区总工会", "name_en": "District", "kind": "union", "is_active": "y"}


def test_an_admin_places_an_organisation_under_another_with_an_audit_row(client, admin, post):
    city = make_organisation(name_en="City federation")
    district = make_organisation(name_zh="区总工会", name_en="District", kind="union")
    street = make_organisation(name_en="Street union", parent=district)
    db.session.commit()

    page = client.get(f"/admin/partners/{district.id}").get_data(as_text=True)
    form = form_for(page, f"/admin/partners/{district.id}")
    # Not itself, nor one under it; the others by their way down.
    assert str(city.id) in form["options"]["parent"]
    assert str(district.id) not in form["options"]["parent"]
    assert str(street.id) not in form["options"]["parent"]

    response = post(f"/admin/partners/{district.id}", {**PARTNER_FORM, "parent": str(city.id)})
    assert response.status_code == 303
    assert _paths()["Street union"] == f"/{city.id}/{district.id}/{street.id}/"
    [row] = audit_rows("organisation.update")
    assert row.before == {"parent_id": None} and row.after == {"parent_id": city.id}
    page = client.get(f"/admin/partners/{street.id}").get_data(as_text=True)
    assert "City federation › District › Street union" not in page  # itself is not a choice
    assert "City federation › District" in page

    # A new organisation, created straight under the district.
    response = post("/admin/partners/new", {**PARTNER_FORM, "parent": str(district.id)})
    assert response.status_code == 303
    created = db.session.scalar(sa.select(Organisation).order_by(Organisation.id.desc()))
    assert created.path == f"/{city.id}/{district.id}/{created.id}/"
    assert audit_rows("organisation.create")[-1].after["parent_id"] == district.id


@pytest.mark.parametrize("htmx", [False, True])
def test_a_cycle_is_refused_with_a_translated_error_and_nothing_saved(client, admin, post, htmx):
    city = make_organisation(name_zh="市总工会", name_en="City")
    district = make_organisation(name_en="District", parent=city)
    db.session.commit()
    before = _paths()
    data = {
        **PARTNER_FORM,
        "name_zh": "市总工会改名",
        "name_en": "City",
        "parent": str(district.id),
    }
    response = post(f"/admin/partners/{city.id}", data, htmx=htmx)
    assert response.status_code == (200 if htmx else 422)
    html = response.get_data(as_text=True)
    assert "An organisation cannot be placed under itself or an organisation under it." in html
    assert 'value="市总工会改名"' in html  # what was typed stays
    assert _paths() == before
    assert fresh_org(city).name_zh == "市总工会"
    assert audit_rows("organisation.update") == []

    response = post(f"/admin/partners/{city.id}", {**data, "parent": str(city.id)})
    assert response.status_code == 422
    assert "cannot be placed under itself" in response.get_data(as_text=True)
    assert _paths() == before


# --- who reads what: the role × URL matrix -------------------------------------------


@dataclass
class Tree:
    """A city federation (parent) above a district union (child) and its
    sibling, the district above a street union (grandchild); staff for each
    and a routed need led by each."""

    partners: dict[str, Partner]
    needs: dict[str, object]

    def staff(self, name: str):
        return self.partners[name].staff

    def org(self, name: str) -> Organisation:
        return self.partners[name].organisation


ABOVE = {  # who lies above whom
    "parent": set(),
    "child": {"parent"},
    "sibling": {"parent"},
    "grandchild": {"child", "parent"},
}
NAMES = {
    "parent": ("市总工会", "City federation"),
    "child": ("区总工会", "District union"),
    "sibling": ("另一区总工会", "Other district union"),
    "grandchild": ("街道工会", "Street union"),
}


@pytest.fixture
def tree(app) -> Tree:
    orgs: dict[str, Organisation] = {}
    for name, parent in (
        ("parent", None),
        ("child", "parent"),
        ("sibling", "parent"),
        ("grandchild", "child"),
    ):
        zh, en = NAMES[name]
        orgs[name] = make_organisation(name_zh=zh, name_en=en, parent=orgs.get(parent))
    partners = {name: Partner(org, make_user(Role.PARTNER, org)) for name, org in orgs.items()}
    category = make_category()
    needs = {
        name: make_need(
            NeedStatus.ROUTED,
            partner=org,
            category=category,
            title=f"Need led by the {name}",
            email="asker@example.org",
        )[0]
        for name, org in orgs.items()
    }
    db.session.commit()
    return Tree(partners, needs)


def _reads(viewer: str, handler: str) -> bool:
    return viewer == handler or viewer in ABOVE[handler]


#: Every partner URL of a need, with what its form sends.
POSTS = {
    "accept": {},
    "decline": {"decline-reason": "Not ours."},
    "decline-transfer": {"decline-transfer-reason": "Not ours."},
    "start": {},
    "resolve": {"resolve-text": "Answer."},
    "moves/reassign": {"reassign-organisation": "", "reassign-reason": "Closer."},
    "updates": {"update-text": "Update."},
    "notes": {"note-text": "Note."},
    "extension": {"extension-new_due": "2099-12-31", "extension-reason": "Time."},
    "transfer": {"transfer-organisation": "1", "transfer-reason": "Other."},
    "input": {"input-text": "Input."},
    "input-requests": {
        "ask-input-supporter": "1",
        "ask-input-question": "?",
        "ask-input-due_date": "2099-12-31",
    },
}


@pytest.mark.parametrize("viewer", sorted(ABOVE))
def test_the_need_page_opens_for_the_handler_and_those_above_only(client, login, tree, viewer):
    login(tree.staff(viewer))
    for handler, need in tree.needs.items():
        response = client.get(f"/partner/needs/{need.ref}")
        html = response.get_data(as_text=True)
        if _reads(viewer, handler):
            assert response.status_code == 200, (viewer, handler)
            assert need.title in html
        else:
            assert response.status_code == 404, (viewer, handler)
            assert need.title not in html


@pytest.mark.parametrize("url", sorted(POSTS))
@pytest.mark.parametrize("viewer", sorted(ABOVE))
def test_no_one_acts_on_a_need_of_another_organisation(client, login, post, tree, viewer, url):
    """Beside or above the viewer: 404. Below it: read only, so a move of the
    lead, an update or a note is refused and changes nothing (the reassignment,
    which it may make, is tested below with a valid choice)."""
    login(tree.staff(viewer))
    for handler, need in tree.needs.items():
        if handler == viewer:
            continue
        before = snapshot(need)
        for htmx in (False, True):
            response = post(f"/partner/needs/{need.ref}/{url}", POSTS[url], htmx=htmx)
            if _reads(viewer, handler):
                assert response.status_code == (200 if htmx else 422), (viewer, handler, url)
            else:
                assert response.status_code == 404, (viewer, handler, url)
                assert need.title not in response.get_data(as_text=True)
        assert snapshot(need) == before, (viewer, handler, url)


def test_the_parent_reads_the_childs_page_labelled_and_without_the_contact(client, login, tree):
    need = tree.needs["child"]
    record_event(need, "note", Actor.staff(tree.staff("child")), text="Call the landlord first.")
    db.session.commit()
    login(tree.staff("parent"))
    html = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "Handled by District union" in html
    assert "District union is under your organisation" in html
    assert "Call the landlord first." in html  # the child's internal note: read everything
    assert "asker@example.org" not in html  # the contact is the handler's business only
    assert "Accept this need" not in html and "Write an internal note" not in html
    assert "Reassign within your organisations" in html
    # The child's own page has the contact and no reassignment.
    login(tree.staff("child"))
    html = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "asker@example.org" in html and "Your assignment" in html
    assert "Reassign within your organisations" not in html


def test_needs_a_child_supports_are_read_from_above_too(client, login, tree):
    outsider = make_organisation(name_en="Housing bureau")
    need, _ = make_need(NeedStatus.IN_PROGRESS, partner=outsider, title="Supported by the street")
    add_co_handlers(need, [tree.org("grandchild")], make_user(Role.ADMIN))
    db.session.commit()
    for viewer in ("parent", "child", "grandchild"):
        login(tree.staff(viewer))
        response = client.get(f"/partner/needs/{need.ref}")
        assert response.status_code == 200, viewer
    login(tree.staff("parent"))
    html = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "Handled by Street union" in html and "Supporting" in html
    assert "Reassign within your organisations" not in html  # the lead is not below it
    login(tree.staff("sibling"))
    assert client.get(f"/partner/needs/{need.ref}").status_code == 404


def test_photos_and_reads_follow_the_same_rule(app, tree):
    need = tree.needs["child"]
    assert is_routed_to(need.id, tree.org("parent").id)
    assert is_routed_to(need.id, tree.org("child").id)
    assert not is_routed_to(need.id, tree.org("sibling").id)
    assert not is_routed_to(need.id, tree.org("grandchild").id)


# --- the inbox section "In your organisations" ---------------------------------------


def _titles(html: str) -> list[str]:
    import re

    results = html.split('id="inbox-results"')[1].split("</section>")[0]
    return re.findall(r'<h3><a href="/partner/needs/[^"]+">([^<]+)</a></h3>', results)


def test_the_inbox_lists_what_the_organisations_below_handle(client, login, tree):
    late = tree.needs["grandchild"]
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.need_id == late.id))
    assignment.response_due_at = utcnow() - timedelta(days=1)
    outsider = make_organisation(name_en="Housing bureau")
    supported, _ = make_need(NeedStatus.ACCEPTED, partner=outsider, title="Supported by the child")
    add_co_handlers(supported, [tree.org("child")], make_user(Role.ADMIN))
    make_need(NeedStatus.ROUTED, partner=outsider, title="Not ours at all")
    db.session.commit()

    login(tree.staff("parent"))
    html = client.get("/partner/inbox").get_data(as_text=True)
    assert 'name="scope"' in html and "In your organisations" in html
    assert _titles(html) == ["Need led by the parent"]
    html = client.get("/partner/inbox", query_string={"scope": "below"}).get_data(as_text=True)
    # Overdue first, then the newest, like the inbox.
    assert _titles(html) == [
        "Need led by the grandchild",
        "Supported by the child",
        "Need led by the sibling",
        "Need led by the child",
    ]
    assert "Handled by Street union" in html and "Handled by Housing bureau" in html
    filtered = client.get(
        "/partner/inbox", query_string={"scope": "below", "state": "accepted"}
    ).get_data(as_text=True)
    assert _titles(filtered) == ["Supported by the child"]
    searched = client.get(
        "/partner/inbox",
        query_string={"scope": "below", "q": "sibling"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert _titles(searched) == ["Need led by the sibling"]

    login(tree.staff("child"))
    html = client.get("/partner/inbox", query_string={"scope": "below"}).get_data(as_text=True)
    assert _titles(html) == ["Need led by the grandchild"]

    login(tree.staff("grandchild"))  # nothing under it: no choice, and nothing above it
    html = client.get("/partner/inbox").get_data(as_text=True)
    assert 'name="scope"' not in html
    html = client.get("/partner/inbox", query_string={"scope": "below"}).get_data(as_text=True)
    assert _titles(html) == []


def test_the_section_takes_the_same_number_of_queries_for_1_or_30_needs(
    client, login, tree, queries
):
    category = make_category()
    below = [tree.org("child"), tree.org("sibling"), tree.org("grandchild")]
    db.session.commit()

    def count() -> int:
        client.get("/partner/inbox?scope=below")  # warm up
        with queries() as statements:
            response = client.get("/partner/inbox?scope=below")
        assert response.status_code == 200
        return len(statements)

    login(tree.staff("parent"))
    for need in tree.needs.values():  # start from one need below
        if need.assigned_organisation_id != tree.org("child").id:
            db.session.execute(
                sa.update(Assignment)
                .where(Assignment.need_id == need.id)
                .values(state=AssignmentState.CANCELLED)
            )
    db.session.commit()
    one = count()
    for n in range(29):
        make_need(NeedStatus.ROUTED, partner=below[n % 3], category=category)
    db.session.commit()
    assert count() == one


# --- reassigning within the subtree -------------------------------------------------------


def _reassign(client, need, organisation_id: int, reason="The street union is next door."):
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    form = form_for(page, f"/partner/needs/{need.ref}/moves/reassign")
    data = {
        **form["fields"],
        "reassign-organisation": str(organisation_id),
        "reassign-reason": reason,
    }
    return client.post(form["action"], data=data), form


def test_the_parent_reassigns_an_accepted_need_to_a_grandchild(client, login, tree):
    need, _ = make_need(NeedStatus.IN_PROGRESS, partner=tree.org("child"), title="Broken heating")
    db.session.commit()
    login(tree.staff("parent"))
    response, form = _reassign(client, need, tree.org("grandchild").id)
    # The choices: the parent itself and those under it, but the lead.
    offered = {int(v) for v in form["options"]["reassign-organisation"] if v}
    assert offered == {tree.org(n).id for n in ("parent", "sibling", "grandchild")}
    assert response.status_code == 303, response.get_data(as_text=True)

    moved = fresh(need)
    assert moved.status == NeedStatus.ROUTED
    assert moved.assigned_organisation_id == tree.org("grandchild").id
    by_org = assignments_of(need)
    assert by_org[tree.org("child").id].state == AssignmentState.TRANSFERRED
    new = by_org[tree.org("grandchild").id]
    assert new.state == AssignmentState.PENDING and new.response_due_at > utcnow()
    assert new.note == "The street union is next door."
    event = db.session.scalar(
        sa.select(TimelineEvent)
        .where(TimelineEvent.need_id == need.id)
        .order_by(TimelineEvent.id.desc())
    )
    assert event.move == "reassign" and event.organisation_id == tree.org("grandchild").id
    assert not event.internal and event.actor_id == tree.staff("parent").id
    [row] = audit_rows("need.reassign")
    assert row.actor_id == tree.staff("parent").id
    assert row.after == {"status": "routed", "organisation_id": tree.org("grandchild").id}

    # The street union answers it now; the district, above it, reads it and may
    # reassign it, but no longer answers it.
    login(tree.staff("grandchild"))
    assert "Broken heating" in client.get("/partner/inbox").get_data(as_text=True)
    token = csrf_token_from(client.get(f"/partner/needs/{need.ref}").get_data(as_text=True))
    accepted = client.post(f"/partner/needs/{need.ref}/accept", data={"csrf_token": token})
    assert accepted.status_code == 303 and fresh(need).status == NeedStatus.ACCEPTED
    login(tree.staff("child"))
    html = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "Handled by Street union" in html
    assert "Publish the answer" not in html and "Start work" not in html
    assert "Reassign within your organisations" in html
    # The street union's answer counts for it in the metrics (its own routed need too).
    figures = compute(organisation_id=tree.org("grandchild").id)
    assert figures.routed == 2 and figures.accepted == 1


def test_the_parent_may_take_the_need_itself(client, login, tree):
    need = tree.needs["grandchild"]
    login(tree.staff("parent"))
    response, _ = _reassign(client, need, tree.org("parent").id, "We take it at city level.")
    assert response.status_code == 303
    assert fresh(need).assigned_organisation_id == tree.org("parent").id
    html = client.get("/partner/inbox").get_data(as_text=True)
    assert need.title in html.split('id="inbox-results"')[1]


@pytest.mark.parametrize("htmx", [False, True])
def test_a_reassignment_outside_the_subtree_is_refused(client, login, post, tree, htmx):
    need = tree.needs["grandchild"]
    outsider = make_organisation(name_en="Housing bureau")
    db.session.commit()
    login(tree.staff("child"))  # the district is above the street union, not above its sibling
    before = snapshot(need)
    for target in (tree.org("sibling"), tree.org("parent"), outsider, tree.org("grandchild")):
        response = post(
            f"/partner/needs/{need.ref}/moves/reassign",
            {"reassign-organisation": str(target.id), "reassign-reason": "Elsewhere."},
            htmx=htmx,
        )
        assert response.status_code == (200 if htmx else 422), target.name_en
        assert "Choose one of your organisations." in response.get_data(as_text=True)
    assert snapshot(need) == before


def test_only_an_organisation_above_the_lead_reassigns(app, tree):
    from portal.workflow.services import WorkflowError, transition

    child_need = tree.needs["child"]
    for viewer in ("child", "sibling", "grandchild"):  # the lead itself, beside, below
        with pytest.raises(WorkflowError):
            transition(
                child_need,
                "reassign",
                Actor.staff(tree.staff(viewer)),
                text="Mine now.",
                organisation=tree.org(viewer),
            )
    with pytest.raises(WorkflowError):  # its own need: not above itself
        transition(
            tree.needs["parent"],
            "reassign",
            Actor.staff(tree.staff("parent")),
            text="x",
            organisation=tree.org("child"),
        )
    assert fresh(child_need).assigned_organisation_id == tree.org("child").id
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "need.reassign")
        )
        == 0
    )


def test_an_inactive_organisation_is_not_a_choice(client, login, tree):
    org = tree.org("sibling")
    org.is_active = False
    db.session.commit()
    login(tree.staff("parent"))
    response, form = _reassign(client, tree.needs["child"], org.id)
    assert str(org.id) not in form["options"]["reassign-organisation"]
    assert response.status_code == 422
    assert fresh(tree.needs["child"]).assigned_organisation_id == tree.org("child").id


# --- the demo data ---------------------------------------------------------------------


def test_the_demo_has_a_district_union_under_the_city_federation(client, login):
    from portal.demo import load_demo_data

    load_demo_data()
    db.session.commit()
    city = db.session.scalar(sa.select(Organisation).where(Organisation.name_zh == "市总工会"))
    district = db.session.scalar(
        sa.select(Organisation).where(Organisation.name_zh == "东城区总工会")
    )
    assert district.parent_id == city.id and district.path == f"/{city.id}/{district.id}/"
    handled = db.session.scalar(sa.select(Need).where(Need.assigned_organisation_id == district.id))
    assert handled.status == NeedStatus.IN_PROGRESS
    manager = db.session.scalar(sa.select(User).where(User.email == "union-admin@huiju.example"))
    assert manager.is_partner_admin and manager.organisation_id == city.id

    login(manager)
    html = client.get(f"/partner/needs/{handled.ref}").get_data(as_text=True)
    assert "Handled by Dongcheng District Federation of Trade Unions" in html
    assert client.get("/partner/organisation").status_code == 200
