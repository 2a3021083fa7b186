"""Where photo files live: PHOTO_FOLDER/<k[:2]>/<key>-<size>.jpg once their
rows are committed, PHOTO_FOLDER/.staging/ before. Files are written to a
temporary name and renamed, so a reader never sees half a file; staging and
final folders are on the same file system, so publishing is a rename too."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from flask import current_app

SIZES = ("display", "thumb")


def folder() -> Path:
    return Path(current_app.config["PHOTO_FOLDER"])


def staging_dir() -> Path:
    return folder() / ".staging"


def final_path(key: str, size: str) -> Path:
    return folder() / key[:2] / f"{key}-{size}.jpg"


def staging_path(key: str, size: str) -> Path:
    return staging_dir() / f"{key}-{size}.jpg"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def stage(key: str, files: dict[str, bytes]) -> None:
    for size, data in files.items():
        _write_atomically(staging_path(key, size), data)


def is_staged(key: str) -> bool:
    return all(staging_path(key, size).is_file() for size in SIZES)


def read_staged(key: str, size: str) -> bytes:
    return staging_path(key, size).read_bytes()


def publish(key: str) -> None:
    """Move a staged photo in place (after its row was committed)."""
    for size in SIZES:
        target = final_path(key, size)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging_path(key, size), target)


def unpublish(key: str) -> None:
    """Undo publish() (its commit failed): back to staging, whatever had moved."""
    for size in SIZES:
        try:
            os.replace(final_path(key, size), staging_path(key, size))
        except FileNotFoundError:
            continue


def discard(key: str) -> None:
    for size in SIZES:
        staging_path(key, size).unlink(missing_ok=True)


def sweep_staging(max_age_seconds: float) -> int:
    """Delete staged files older than this (forms never sent again); returns how many."""
    directory = staging_dir()
    if not directory.is_dir():
        return 0
    cutoff = time.time() - max_age_seconds
    removed = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            try:
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue  # another process swept it first
    return removed
