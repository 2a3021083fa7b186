"""What the projects area announces. Sent inside the caller's transaction, like
the workflow's signals (see `portal/workflow/signals.py` for why and for what
a subscriber may do)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

project_news = _signals.signal(
    "project-news",
    doc="""Something the project's followers should hear of happened: an update
    was published, a milestone done, the target value reached, the status changed.

    Receivers get `(project, *, kind, text)`: kind is one of "update",
    "milestone", "achieved", "status"; text what the notice quotes (may be empty).""",
)
