"""Comments: posting (plain text, links made safe at display), reporting
(the third report holds a comment until a moderator decides) and moderation
(hide, restore, with the reason audited). The text as written is kept."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.comments.models import Comment


@dataclass
class Thread:
    """What a need or project page shows under "Comments"."""

    comments: list[Comment] = field(default_factory=list)
    reported_ids: set[int] = field(default_factory=set)  # what the viewer already reported


def thread_for(*, need=None, project=None, user=None) -> Thread:
    """The visible comments on a need or a project, oldest first (to be built)."""
    return Thread()
