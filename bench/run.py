"""Throughput and p95 latency of the main public pages on a large database,
next to a hello-world Flask baseline served the same way.

    python -m bench.run [--needs 200000] [--seconds 10] [--concurrency 8] [--workers 2]

The database is a fresh SQLite file under bench/results/ (or DATABASE_URL when
set, which must point at an empty database). Needs are bulk-inserted directly,
not through the workflow: the benchmark is about reading them. Results are
printed and written to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def seed(database_url: str, needs: int) -> dict[str, list]:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from portal import create_app
    from portal.categories.models import Category
    from portal.extensions import db
    from portal.needs.models import Need, NeedStatus
    from portal.partners.models import Organisation, OrganisationKind

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": os.environ["SECRET_KEY"]}
    )
    with app.app_context():
        upgrade()
        if db.session.scalar(sa.select(sa.func.count(Need.id))):
            sys.exit("the benchmark database is not empty")
        orgs = [
            Organisation(name_zh=f"基准伙伴{i}", name_en=f"Bench partner {i}", kind=kind)
            for i, kind in enumerate(list(OrganisationKind) * 10)
        ]
        db.session.add_all(orgs)
        org = orgs[0]
        categories = [
            Category(code=f"c{i}", name_zh=f"类别{i}", name_en=f"Category {i}", default_partner=org)
            for i in range(12)
        ]
        db.session.add_all(categories)
        db.session.commit()
        rng = random.Random(1)
        words = [
            "停车",
            "路灯",
            "垃圾",
            "电梯",
            "托育",
            "培训",
            "parking",
            "lights",
            "lift",
            "noise",
        ]
        listed = [NeedStatus.OPEN, NeedStatus.ROUTED, NeedStatus.IN_PROGRESS, NeedStatus.CLOSED]
        start = datetime.now(UTC) - timedelta(days=365)
        table = Need.__table__
        batch = []
        loop = LoopRows(orgs, rng)
        for i in range(1, needs + 1):
            status = rng.choice(listed) if rng.random() < 0.9 else NeedStatus.SUBMITTED
            created = start + timedelta(seconds=i * 30 * 200_000 / needs)
            batch.append(
                {
                    "id": i,
                    "ref": f"N-{created.year}-{i:06d}",
                    "title": f"{rng.choice(words)} {rng.choice(words)} need {i}",
                    "body": "A benchmark need with a body of ordinary length. " * 3,
                    "category_id": rng.choice(categories).id,
                    "place": "",
                    "status": status.value,
                    "visibility": "public",
                    "is_listed": status != NeedStatus.SUBMITTED,
                    "channel": "web",
                    "support_count": rng.randint(0, 50),
                    "tracking_token_hash": secrets.token_hex(32),
                    "idempotency_key": secrets.token_hex(16),
                    "created_at": created,
                    "updated_at": created,
                    "published_at": created,
                    "assigned_organisation_id": loop.add(i, status, created),
                }
            )
            if len(batch) == 5000:
                db.session.execute(sa.insert(table), batch)
                loop.flush(db.session)
                batch.clear()
        if batch:
            db.session.execute(sa.insert(table), batch)
        loop.flush(db.session)
        project_ids = seed_projects(db.session, orgs, rng, needs)
        photo_keys = seed_photos(db.session, needs)
        org_ids = [o.id for o in orgs]
        db.session.commit()
        refs = list(
            db.session.scalars(
                sa.select(Need.ref).where(Need.is_listed).order_by(sa.func.random()).limit(200)
            )
        )
        from portal.photos.models import Photo

        photo_keys = list(  # photos of published needs: each answers 200
            db.session.scalars(
                sa.select(Photo.key).join(Need).where(Need.is_listed, Photo.key.in_(photo_keys))
            )
        )
        db.engine.dispose()
    return {
        "refs": refs,
        "organisations": org_ids,
        "projects": project_ids,
        "photos": photo_keys,
    }


def seed_photos(session, needs: int) -> list[str]:
    """Two photo rows on every fifth need (need pages run their photo query on
    a big table); real files for the first 200, which the photo scenario asks for."""
    import sqlalchemy as sa

    from portal.photos import storage
    from portal.photos.demo import street_scene
    from portal.photos.models import Photo
    from portal.photos.processing import clean_photo
    from portal.photos.services import limits

    clean = clean_photo(street_scene(1), limits())
    now = datetime.now(UTC)
    rows, keys = [], []
    for need_id in range(1, needs + 1, 5):
        for _ in range(2):
            key = secrets.token_hex(16)
            rows.append(
                {
                    "need_id": need_id,
                    "key": key,
                    "width": clean.width,
                    "height": clean.height,
                    "thumb_width": clean.thumb_width,
                    "thumb_height": clean.thumb_height,
                    "display_bytes": len(clean.display),
                    "thumb_bytes": len(clean.thumb),
                    "is_hidden": False,
                    "hidden_reason": "",
                    "created_at": now,
                }
            )
            if len(keys) < 200:
                keys.append(key)
                storage.stage(key, {"display": clean.display, "thumb": clean.thumb})
                storage.publish(key)
        if len(rows) >= 5000:
            session.execute(sa.insert(Photo.__table__), rows)
            rows.clear()
    if rows:
        session.execute(sa.insert(Photo.__table__), rows)
    return keys


class LoopRows:
    """Timeline events (route, accept, resolve) and feedback for the seeded
    needs, so the partner pages and the dashboard compute real metrics."""

    def __init__(self, orgs, rng):
        self.orgs, self.rng = orgs, rng
        self.events: list[dict] = []
        self.feedback: list[dict] = []

    def add(self, need_id: int, status, created) -> int | None:
        from portal.needs.models import NeedStatus

        if status not in (NeedStatus.ROUTED, NeedStatus.IN_PROGRESS, NeedStatus.CLOSED):
            return None
        org = self.rng.choice(self.orgs).id
        steps = [("route", "open", "routed", 1)]
        if status != NeedStatus.ROUTED:
            steps.append(("accept", "routed", "accepted", 1 + self.rng.random() * 4))
        if status == NeedStatus.CLOSED:
            steps.append(("resolve", "in_progress", "resolved", 5 + self.rng.random() * 20))
            if self.rng.random() < 0.3:
                self.feedback.append(
                    {
                        "need_id": need_id,
                        "cycle": 1,
                        "respondent": "submitter",
                        "is_submitter": True,
                        "resolved": "yes",
                        "satisfaction": self.rng.randint(1, 5),
                        "comment": "",
                        "created_at": created + timedelta(days=27),
                    }
                )
        for move, before, after, days in steps:
            self.events.append(
                {
                    "need_id": need_id,
                    "move": move,
                    "from_status": before,
                    "to_status": after,
                    "actor_role": "partner" if move != "route" else "admin",
                    "organisation_id": org,
                    "text": "",
                    "internal": False,
                    "created_at": created + timedelta(days=days),
                }
            )
        return org

    def flush(self, session) -> None:
        import sqlalchemy as sa

        from portal.feedback.models import Feedback
        from portal.workflow.models import TimelineEvent

        if self.events:
            session.execute(sa.insert(TimelineEvent.__table__), self.events)
        if self.feedback:
            session.execute(sa.insert(Feedback.__table__), self.feedback)
        self.events.clear()
        self.feedback.clear()


def seed_projects(session, orgs, rng, needs: int) -> list[int]:
    """300 projects with five milestones and two commitments each, ten linked needs."""
    from datetime import date

    from portal.partners.models import ResourceKind
    from portal.projects.models import (
        Milestone,
        Project,
        ProjectNeed,
        ProjectStatus,
        ResourceCommitment,
    )

    projects = []
    for i in range(300):
        project = Project(
            title=f"基准项目 Bench project {i}",
            goal="让更多人得到帮助。",
            target="200 人",
            target_value=200,
            lead_organisation_id=rng.choice(orgs).id,
            status=rng.choice(list(ProjectStatus)),
            progress=rng.randint(0, 100),
        )
        project.supporting_organisations = rng.sample(orgs, 2)
        project.milestones = [
            Milestone(title=f"里程碑 {m}", due_on=date(2026, 1 + m, 15), position=m)
            for m in range(5)
        ]
        project.commitments = [
            ResourceCommitment(
                organisation_id=project.supporting_organisations[c].id,
                kind=ResourceKind.VENUES,
                description="场地",
            )
            for c in range(2)
        ]
        projects.append(project)
    session.add_all(projects)
    session.flush()
    links = {(p.id, rng.randint(1, needs)) for p in projects for _ in range(10)}
    session.add_all(ProjectNeed(project_id=p, need_id=n) for p, n in links)
    session.flush()
    return [p.id for p in projects]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app_path: str, env: dict, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_path,
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit(f"{app_path} did not start")


def warm_up(port: int, paths: list[str], workers: int) -> float:
    """Asks every path (up to 20) as many times as there are workers before the
    timed load (which worker answers is the kernel's choice), so the
    load measures the steady state; returns the slowest of these first answers
    (cold caches: e.g. the dashboard's statistics, computed once per process)."""
    slowest = 0.0
    for path in paths:
        for _ in range(workers):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Accept-Language": "zh-CN"})
            conn.getresponse().read()
            slowest = max(slowest, time.perf_counter() - t0)
            conn.close()
    return round(slowest * 1000, 1)


def load(port: int, paths: list[str], seconds: float, concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(seed_value: int) -> None:
        nonlocal errors
        rng = random.Random(seed_value)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < stop_at:
            path = rng.choice(paths)
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept-Language": "zh-CN"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - t0)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--needs", type=int, default=200_000, help="needs to seed (default 200000)")
    parser.add_argument(
        "--seconds", type=float, default=10, help="load time per scenario (default 10)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        db_file = RESULTS / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        env["PORTAL_INSTANCE_DIR"] = str(RESULTS)
        os.environ["PORTAL_INSTANCE_DIR"] = str(RESULTS)
        database_url = f"sqlite:///{db_file}"
        env["DATABASE_URL"] = database_url
    else:
        database_url = env["DATABASE_URL"]
    env["RATELIMIT_ENABLED"] = "false"
    # The app refuses to start without a strong key; a benchmark signs nothing it keeps.
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    os.environ["SECRET_KEY"] = env["SECRET_KEY"]

    t0 = time.perf_counter()
    seeded = seed(database_url, args.needs)
    refs = seeded["refs"]
    print(f"seeded {args.needs} needs in {time.perf_counter() - t0:.1f}s")

    scenarios = {
        "hello-world baseline": ("bench.hello:app", ["/"]),
        "home /": ("wsgi:app", ["/"]),
        "list /needs": ("wsgi:app", ["/needs", "/needs?category=3", "/needs?status=open"]),
        "search /needs?q=": ("wsgi:app", ["/needs?q=停车", "/needs?q=lift"]),
        "detail /needs/<ref>": ("wsgi:app", [f"/needs/{ref}" for ref in refs]),
        "projects /projects": ("wsgi:app", ["/projects", "/projects?status=in_progress"]),
        "project /projects/<id>": (
            "wsgi:app",
            [f"/projects/{i}" for i in seeded["projects"][:100]],
        ),
        "partners /partners/<id>": (
            "wsgi:app",
            ["/partners"] + [f"/partners/{i}" for i in seeded["organisations"]],
        ),
        "photo /photos/<key>/thumb": (
            "wsgi:app",
            [f"/photos/{key}/thumb.jpg" for key in seeded["photos"]],
        ),
        "dashboard /transparency": (
            "wsgi:app",
            ["/transparency", "/transparency?category=3", "/transparency?category=5"],
        ),
    }
    results = {}
    for name, (app_path, paths) in scenarios.items():
        proc, port = serve(app_path, env, args.workers)
        try:
            cold_ms = warm_up(port, [quote(p, safe="/?=&") for p in paths[:20]], args.workers)
            results[name] = load(
                port, [quote(p, safe="/?=&") for p in paths], args.seconds, args.concurrency
            )
            results[name]["cold_ms"] = cold_ms
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        r = results[name]
        print(
            f"{name:24} {r['rps']:8} req/s   p50 {r['p50_ms']:7} ms   "
            f"p95 {r['p95_ms']:7} ms   errors {r['errors']}   first {r['cold_ms']:8} ms"
        )
    report = {
        "needs": args.needs,
        "database": database_url.split("://")[0],
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "results": results,
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
