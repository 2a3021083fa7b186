"""`flask portal clean-photos`: staged photos of abandoned forms are removed, fresh ones stay."""

from __future__ import annotations

import os
import time

from portal.photos import storage


def test_clean_photos_removes_only_abandoned_staged_files(app, tmp_path):
    storage.stage("a" * 32, {"display": b"old", "thumb": b"old"})
    storage.stage("b" * 32, {"display": b"new", "thumb": b"new"})
    long_ago = time.time() - (app.config["PHOTO_STAGING_HOURS"] + 2) * 3600
    for size in storage.SIZES:
        os.utime(storage.staging_path("a" * 32, size), (long_ago, long_ago))

    result = app.test_cli_runner().invoke(args=["portal", "clean-photos"])

    assert result.exit_code == 0 and "Removed 2 staged photo file(s)." in result.output
    assert not storage.is_staged("a" * 32) and storage.is_staged("b" * 32)
