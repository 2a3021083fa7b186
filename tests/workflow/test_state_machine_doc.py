"""docs/state-machine.md is the workflow's table, written out: it cannot drift."""

from __future__ import annotations

from portal.workflow.diagram import DOCUMENT, state_machine_markdown
from portal.workflow.services import MOVES


def test_the_document_is_what_the_table_generates(app):
    assert DOCUMENT.read_text(encoding="utf-8") == state_machine_markdown(), (
        "run `flask --app wsgi portal state-machine --write`"
    )


def test_every_move_and_status_appears_in_the_document(app):
    text = DOCUMENT.read_text(encoding="utf-8")
    for move in MOVES.values():
        assert f"| `{move.name}` |" in text
        assert f"`{move.target.value}`" in text
