"""How notify hears of the domain: receivers of the workflow's, the needs' and
the projects' signals, connected by the app factory (`connect()`).

The areas announce what happened and do not import notify; notify decides who
hears and how (today: an e-mail in the outbox, or the daily digest). Each
receiver runs inside the transaction of the change (see
`portal/workflow/signals.py`), so its outbox rows commit, or roll back, with it.
"""

from __future__ import annotations

from portal.auth.models import User
from portal.needs.models import Need
from portal.needs.signals import need_submitted
from portal.notify import services
from portal.projects.models import Project
from portal.projects.signals import project_news
from portal.workflow.models import TimelineEvent
from portal.workflow.signals import need_event_recorded, need_moved


def connect() -> None:
    """Subscribe to the signals. Safe to call for every app the process creates:
    blinker keeps one connection per receiver."""
    need_submitted.connect(on_need_submitted)
    need_moved.connect(on_need_step)
    need_event_recorded.connect(on_need_step)
    project_news.connect(on_project_news)


def on_need_submitted(need: Need, *, tracking_token: str, submitter: User | None, **_) -> None:
    """The receipt with the private link; a member follows their own need, so
    they hear of its steps as they chose for their own needs."""
    services.queue_submission_receipt(need, tracking_token)
    if submitter is not None:
        services.follow(need, submitter)


def on_need_step(need: Need, *, event: TimelineEvent, notify: bool, **_) -> None:
    """A move or a recorded step: the submitter's contact address hears of the
    steps the workflow marks as news, and so do the followers who asked to hear at once."""
    if not notify:
        return
    services.queue_status_update(need, event)
    services.notify_followers(need, event)


def on_project_news(project: Project, *, kind: str, text: str = "", **_) -> None:
    services.notify_project_followers(project, kind, text)
