"""docs/state-machine.md, written from the workflow's own table, so the document
cannot drift from the code: `flask portal state-machine --write` regenerates it,
and a test fails while the file differs from what this module writes."""

from __future__ import annotations

from pathlib import Path

from flask_babel import force_locale

from portal.workflow.services import EVENT_LABELS, EVENT_ROLES, INTERNAL_EVENTS, MOVES

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "state-machine.md"

_HEADER = """\
# The response loop: the state machine

<!-- Generated from portal/workflow/services.py by
     `flask --app wsgi portal state-machine --write`; do not edit by hand
     (tests/workflow/test_state_machine_doc.py fails while it differs). -->

A need's status changes only through `portal.workflow.services.transition()`,
which checks this table, claims the need with a conditional UPDATE (of two
simultaneous moves exactly one wins), keeps the assignments in step, appends a
timeline event, writes the audit row for staff and queues the notifications,
all in the caller's transaction.
"""


def _status(value) -> str:
    return "(new)" if value is None else f"`{value.value}`"


def state_machine_markdown() -> str:
    """The whole document (needs an app context for the English labels)."""
    lines = [_HEADER, "## Diagram", "", "```mermaid", "stateDiagram-v2"]
    for move in MOVES.values():
        for source in sorted(move.sources, key=lambda s: "" if s is None else s.value):
            start = "[*]" if source is None else source.value
            lines.append(f"    {start} --> {move.target.value}: {move.name}")
    lines += ["```", "", "## Moves", ""]
    lines += [
        "| move | from | to | who may make it | text required | timeline label |",
        "|---|---|---|---|---|---|",
    ]
    with force_locale("en"):
        for move in MOVES.values():
            sources = ", ".join(
                sorted(_status(s) for s in move.sources)  # stable order for the diff
            )
            roles = ", ".join(sorted(r.value for r in move.roles))
            if move.from_above:
                roles += " (of an organisation above the lead)"
            lines.append(
                f"| `{move.name}` | {sources} | {_status(move.target)} | {roles} "
                f"| {'yes' if move.needs_text else 'no'} | {move.label} |"
            )
        lines += [
            "",
            "## Steps that do not change the status",
            "",
            "| step | who may record it | public | timeline label |",
            "|---|---|---|---|",
        ]
        for kind, label in EVENT_LABELS.items():
            roles = ", ".join(sorted(r.value for r in EVENT_ROLES[kind]))
            public = "no" if kind in INTERNAL_EVENTS else "yes"
            lines.append(f"| `{kind}` | {roles} | {public} | {label} |")
    return "\n".join(lines) + "\n"
