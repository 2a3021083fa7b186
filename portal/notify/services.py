"""Queue e-mails in the outbox, rendered in the recipient's language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale

from portal.extensions import db
from portal.needs.models import Need
from portal.notify.models import OutboxEmail
from portal.workflow.models import TimelineEvent


def queue_email(to_address: str, template: str, locale: str, **context) -> OutboxEmail:
    """Render `templates/notify/<template>.txt` (first line is the subject) and queue it."""
    with force_locale(locale):
        text = render_template(f"notify/{template}.txt", **context)
    subject, _, body = text.strip().partition("\n")
    mail = OutboxEmail(
        to_address=to_address,
        subject=subject.strip()[:200],
        body_text=body.strip() + "\n",
        locale=locale,
    )
    db.session.add(mail)
    return mail


def public_url(endpoint: str, **values) -> str:
    """An absolute link for e-mails, built from PUBLIC_BASE_URL so it works in
    workers and CLI commands too, not only inside a request."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def queue_submission_receipt(need: Need, tracking_token: str) -> OutboxEmail | None:
    contact = need.contact
    if contact is None or not contact.email:
        return None
    return queue_email(
        contact.email,
        "need_received",
        contact.locale,
        need=need,
        tracking_url=public_url("needs.track", token=tracking_token),
    )


def queue_status_update(need: Need, event: TimelineEvent) -> OutboxEmail | None:
    contact = need.contact
    if contact is None or not contact.email:
        return None
    from portal.needs.services import tracking_token_for

    token = tracking_token_for(need)
    return queue_email(
        contact.email,
        "need_status_changed",
        contact.locale,
        need=need,
        event=event,
        tracking_url=public_url("needs.track", token=token) if token else "",
    )
