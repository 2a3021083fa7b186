"""The verification e-mail travels through a real SMTP server, and its link works."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from portal.auth.models import User
from portal.extensions import db
from portal.notify.channels import deliver_outbox
from tests.conftest import csrf_token_from
from tests.notify.test_mailer import RecordingHandler, free_port


@pytest.fixture
def smtp():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def app_config(smtp) -> dict:
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp[1], "MAIL_TIMEOUT": 5.0}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_verification_mail_arrives_in_the_readers_language_and_its_link_verifies(
    client, smtp, locale
):
    handler, _port = smtp
    client.set_cookie("locale", locale)
    page = client.get("/auth/register").get_data(as_text=True)
    client.post(
        "/auth/register",
        data={
            "csrf_token": csrf_token_from(page),
            "display_name": "王芳",
            "email": "wang.fang@example.org",
            "password": "a long and quiet river",
            "confirm": "a long and quiet river",
            "consent": "y",
        },
    )
    report = deliver_outbox()
    assert report.sent == 1
    (mail,) = handler.received
    message = mail.message
    assert mail.rcpt_tos == ["wang.fang@example.org"]
    body = message.get_content()
    if locale == "zh_CN":
        assert "确认" in message["Subject"] and "王芳" in body
    else:
        assert message["Subject"] == "Confirm your e-mail address for Huiju"
    link = re.search(r"https?://[^/\s]+(/auth/verify/\S+)", body).group(1)
    response = client.get(link)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    db.session.expire_all()
    assert db.session.scalar(sa.select(User)).is_verified
