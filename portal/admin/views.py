"""The admin dashboard (/admin): what waits for triage, the response metrics,
needs by state, what is overdue or escalated, and partners' requests. Each
area owns its own admin pages; templates/admin/_nav.html links them."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, url_for

from portal.admin import services
from portal.auth.decorators import admin_required
from portal.htmx import render
from portal.metrics.services import compute
from portal.models_base import utcnow
from portal.partners.services import pending_requests
from portal.triage.services import QUEUE_STATUSES

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: The period of the response metrics on the dashboard.
METRICS_DAYS = 90


@bp.get("")
@admin_required
def dashboard():
    counts = services.state_counts()
    requests = pending_requests(limit=50)
    now = utcnow()
    return render(
        "admin/dashboard.html",
        context={
            "metrics": compute(start=now - timedelta(days=METRICS_DAYS), end=now, now=now),
            "counts": counts,
            "waiting": sum(counts[s] for s in QUEUE_STATUSES),
            "overdue": services.overdue_assignments(),
            "escalated": services.escalated_assignments(),
            "requests": requests,
            "request_needs": services.needs_by_id(r.assignment.need_id for r in requests),
            "oldest": services.oldest_waiting(),
            "now": utcnow(),
            "next_url": url_for("admin.dashboard"),
        },
    )
