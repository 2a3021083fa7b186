"""The repository carries its own design: its documents point nowhere outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)#]+)(?:#[^)]*)?\)|`(\.\./[^`]+)`")


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_documents_link_only_to_files_in_the_repository():
    problems = []
    for document in _documents():
        for match in LINK.finditer(document.read_text(encoding="utf-8")):
            target = match.group(1) or match.group(2)
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            resolved = (document.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                problems.append(f"{document.name}: {target}")
    assert problems == []


def test_the_design_documents_exist():
    for name in ("architecture.md", "domain.md", "state-machine.md", "deployment.md"):
        assert (ROOT / "docs" / name).is_file(), name
