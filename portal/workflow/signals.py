"""What the workflow announces: a need moved, or a step was recorded on its timeline.

The workflow does not know who listens. `portal.notify` subscribes (see
`portal/notify/subscribers.py`, connected by the app factory); other areas
may too. So the dependency goes one way: notify imports the workflow, never
the reverse.

When: *inside* the caller's transaction, right after the timeline event was
added to the session, before the view commits. The project's rule is
"nothing lost": an e-mail is a row in the outbox written in the same
transaction as the change it reports, and the outbox worker delivers it only
after that transaction has committed. The outbox is how a notice happens
"after the move commits"; a subscriber adds its outbox rows to the same
session, so a move that commits always has its notices, and a move that is
rolled back (a later check failed, or another request moved the need first)
leaves none. A signal sent after the commit could not promise either: a crash
between the commit and the subscriber would lose the notice.

So a subscriber must:
- only add rows to `db.session` (never commit, roll back or send anything
  itself); an exception it raises fails the move, as any other failure of
  the transaction would;
- keep to a constant number of queries per signal: it runs in the request.

Each signal's sender is the need; the keyword arguments are listed on the signal.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

need_moved = _signals.signal(
    "need-moved",
    doc="""A need changed status through `transition()` (the "submit" move included).

    Receivers get `(need, *, event, move, actor, notify)`: the `TimelineEvent`
    just added (not flushed yet), the `Move` of the table, the `Actor`, and
    `notify`, true when the submitter and the followers should hear of this
    step (public, and not the submission itself: that has its own receipt).""",
)

need_event_recorded = _signals.signal(
    "need-event-recorded",
    doc="""A step that does not change the status was added by `record_event()`
    (an update, a note, a request and its answer, feedback, a reminder…).

    Receivers get `(need, *, event, kind, actor, notify)`: the `TimelineEvent`
    just added, its kind (`event.move`), the `Actor`, and `notify`, true when
    the submitter and the followers should hear of it.""",
)
