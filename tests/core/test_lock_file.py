"""Installs are reproducible: `make` installs requirements.lock, which pins every
dependency of pyproject.toml (and its dev extras) to one exact version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;#]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[_normal(match.group(1))] = match.group(2)
    return pins


def test_every_dependency_is_pinned_to_a_version_it_allows():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = _pins()
    problems = []
    for spec in map(Requirement, wanted):
        pinned = pins.get(_normal(spec.name))
        if pinned is None:
            problems.append(f"{spec.name} is not in requirements.lock")
        elif not spec.specifier.contains(pinned, prereleases=True):
            problems.append(f"{spec.name}=={pinned} does not satisfy {spec.specifier}")
    assert problems == [], "run `make lock` after changing pyproject.toml"


def test_make_installs_from_the_lock_file():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet -r $(LOCK)" in makefile
    assert "--no-deps -e ." in makefile
