from __future__ import annotations

import itertools

import pytest

from portal.auth.models import Role
from portal.comments.models import Comment
from portal.extensions import db
from portal.needs.models import NeedStatus
from tests.factories import make_need, make_project, make_user

HTMX = {"HX-Request": "true"}
_tokens = itertools.count(1)


@pytest.fixture(autouse=True)
def english(client):
    """The tests read the English texts (the default language is zh_CN)."""
    client.set_cookie("locale", "en")


@pytest.fixture
def need(app):
    need, _token = make_need(NeedStatus.OPEN)
    db.session.commit()
    return need


@pytest.fixture
def project(app):
    project = make_project()
    db.session.commit()
    return project


@pytest.fixture
def member(app):
    user = make_user()
    db.session.commit()
    return user


@pytest.fixture
def admin(app):
    user = make_user(Role.ADMIN)
    db.session.commit()
    return user


def add_comment(author, *, need=None, project=None, body="A comment", token=None) -> Comment:
    comment = Comment(
        need_id=need.id if need else None,
        project_id=project.id if project else None,
        author_id=author.id,
        body=body,
        client_token=token or f"test-token-{next(_tokens)}",
    )
    db.session.add(comment)
    db.session.flush()
    return comment
