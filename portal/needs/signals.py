"""What the needs area announces. Sent inside the caller's transaction, like
the workflow's signals (see `portal/workflow/signals.py` for why and for what
a subscriber may do)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

need_submitted = _signals.signal(
    "need-submitted",
    doc="""A need was submitted (on any channel) and has its reference.

    Receivers get `(need, *, tracking_token, submitter)`: the private tracking
    token in clear (it exists only now and in links derived from the
    secret), and the member who submitted it, or None.""",
)
