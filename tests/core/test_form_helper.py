"""One way to handle a form post (portal.forms.submit_form): a refusal of a
service is shown next to the field it names, one area's form at a time."""

from __future__ import annotations

import sqlalchemy as sa

from portal.auth.models import Role
from portal.domain import DomainError
from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.partners.models import Assignment
from tests.factories import make_need, make_organisation, make_user
from tests.forms import form_for


def test_every_area_error_is_a_domain_error():
    from portal.audit.checks import QualityCheckError
    from portal.auth.admin_services import UserAdminError
    from portal.categories.questions import QuestionError
    from portal.categories.services import CategoryError
    from portal.comments.services import CommentError
    from portal.core.settings import SettingsError
    from portal.moderation.services import ModerationError
    from portal.open311.apikeys import ApiKeyError
    from portal.partners.admin_services import PartnerAdminError
    from portal.privacy.services import PrivacyError
    from portal.projects.services import ProjectError
    from portal.triage.services import TriageError
    from portal.voting.services import VotingError
    from portal.workdays.services import CalendarError
    from portal.workflow.services import ChangedMeanwhile, WorkflowError

    for error in (
        CalendarError,
        CategoryError,
        CommentError,
        ModerationError,
        ApiKeyError,
        PartnerAdminError,
        QualityCheckError,
        QuestionError,
        PrivacyError,
        ProjectError,
        SettingsError,
        TriageError,
        UserAdminError,
        VotingError,
        WorkflowError,
        ChangedMeanwhile,
    ):
        assert issubclass(error, DomainError), error


def test_triage_shows_a_service_refusal_next_to_its_field(client, login):
    need, _ = make_need(NeedStatus.OPEN)
    partner = make_organisation()
    login(make_user(Role.ADMIN))
    db.session.commit()
    client.set_cookie("locale", "en")
    page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    form = form_for(page, f"/admin/needs/{need.ref}/route")
    data = {**form["fields"], "organisation": str(partner.id), "due_date": "2000-01-01"}
    response = client.post(form["action"], data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The due date cannot be in the past." in html
    # In the route form, by the due date, with what was typed kept.
    route_form = html[html.index(f'action="/admin/needs/{need.ref}/route"') :]
    assert route_form.index("The due date cannot be in the past.") < route_form.index("</form>")
    assert 'value="2000-01-01"' in route_form
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0


def test_the_partner_workspace_shows_a_refusal_in_the_action_it_concerns(client, login):
    partner = make_organisation()
    need, _ = make_need(NeedStatus.ROUTED, partner=partner)
    login(make_user(Role.PARTNER, partner))
    db.session.commit()
    client.set_cookie("locale", "en")
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    form = form_for(page, f"/partner/needs/{need.ref}/accept")
    # Someone else of the organisation accepts first; this accept is refused.
    from portal.workflow.services import Actor, transition

    transition(need, "accept", Actor.staff(make_user(Role.PARTNER, partner)))
    db.session.commit()
    response = client.post(form["action"], data=form["fields"])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<div class="form-errors" role="alert"><p>This action is not possible' in html
