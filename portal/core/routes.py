"""Routing shared by the workspaces."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Blueprint


def add_move_routes(
    bp: Blueprint, prefix: str, view: Callable, established: Mapping[str, str]
) -> None:
    """One view for every workflow move of a workspace, reached at
    `<prefix>/moves/<move>` and at each move's established URL (`{move: path}`).
    The established URLs stay what the pages post to (url_for builds them), and
    the generic URL of those moves answers a 308 to them, keeping method and form."""
    bp.add_url_rule(f"{prefix}/moves/<move>", view_func=view, methods=["POST"])
    for move, path in established.items():
        bp.add_url_rule(
            f"{prefix}/{path}", view_func=view, methods=["POST"], defaults={"move": move}
        )
