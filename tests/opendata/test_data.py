"""/data and its downloads: every data set in CSV and JSON, exactly the
documented fields, only public rows, formulas neutralised, streamed in batches."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.opendata.datasets import DATASETS
from tests.factories import make_category, make_need
from tests.opendata.conftest import read_csv, read_json


@pytest.fixture
def app_config():
    """Small batches, so every test streams through several keyset pages."""
    return {"OPENDATA_BATCH_SIZE": 7}


def test_the_data_page_documents_every_data_set_and_the_licence(client, world):
    response = client.get("/data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "CC BY 4.0" in html
    assert "Huiju 汇聚" in html
    assert "Generated live" in html
    for dataset in DATASETS.values():
        assert f'href="/data/{dataset.slug}.csv"' in html
        assert f'href="/data/{dataset.slug}.json"' in html
        for field in dataset.fields:
            assert f"<code>{field.name}</code>" in html
            with force_locale("en"):
                assert str(field.meaning) in html  # translations are trusted markup
    assert "/feeds/categories/roads.atom" in html
    assert "/posters" in html
    # Files are downloaded by the browser, not fetched and swapped in by hx-boost.
    assert html.count('class="download-links" hx-boost="false"') == len(DATASETS)


def test_the_data_page_is_translated(client, world):
    client.set_cookie("locale", "zh_CN")
    response = client.get("/data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    assert "开放数据" in html and "许可" in html


def test_every_data_set_in_both_formats_has_exactly_the_documented_fields(client, world):
    for slug, dataset in DATASETS.items():
        csv_response = client.get(f"/data/{slug}.csv")
        assert csv_response.status_code == 200, slug
        assert csv_response.mimetype == "text/csv"
        assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
        disposition = csv_response.headers["Content-Disposition"]
        assert disposition.startswith("attachment; filename=huiju-" + slug + "-")
        assert disposition.endswith(".csv")
        rows = read_csv(csv_response)
        header = csv_response.get_data().decode("utf-8-sig").splitlines()[0].split(",")
        assert header == dataset.field_names, slug

        json_response = client.get(f"/data/{slug}.json")
        assert json_response.status_code == 200, slug
        assert json_response.mimetype == "application/json"
        assert json_response.headers["Content-Disposition"].endswith(".json")
        objects = read_json(json_response)
        assert isinstance(objects, list)
        assert len(objects) == len(rows), slug
        nested = [dataset.nested[0]] if dataset.nested else []
        for obj in objects:
            assert list(obj) == dataset.field_names + nested, slug
            if dataset.nested:
                child = DATASETS[dataset.nested[1]]
                for item in obj[dataset.nested[0]]:
                    assert list(item) == child.field_names, slug


def test_needs_hold_only_listed_needs_and_public_fields(client, world):
    rows = read_csv(client.get("/data/needs.csv"))
    assert [r["ref"] for r in rows] == [n.ref for n in world.listed]
    first = rows[0]
    assert first["title"] == "Broken lamp on Elm Street"
    assert first["category_code"] == "roads"
    assert first["category_name_zh"] == "道路"
    assert first["status"] == "open"
    assert first["channel"] == "web"
    assert first["created_at"].endswith("Z") and "T" in first["created_at"]
    assert rows[1]["partner_name_en"] == "City Union"
    assert rows[2]["status"] == "closed"
    assert rows[2]["outcome"] == "resolved"
    text = client.get("/data/needs.json").get_data(as_text=True)
    for need in world.unlisted:
        assert need.ref not in text
    assert "secret need" not in text
    objects = read_json(client.get("/data/needs.json"))
    assert objects[0]["support_count"] == 0
    assert objects[0]["resolved_at"] is None


def test_events_are_the_public_timeline_of_listed_needs(client, world):
    rows = read_json(client.get("/data/events.json"))
    refs = {r["need_ref"] for r in rows}
    assert refs == {n.ref for n in world.listed}
    kinds = [r["kind"] for r in rows if r["need_ref"] == world.listed[1].ref]
    assert kinds[:2] == ["submit", "publish"]
    assert "update" in kinds
    assert "note" not in kinds
    assert any(r["text"] == "Work has started." for r in rows)
    route = next(r for r in rows if r["kind"] == "route" and r["need_ref"] == world.listed[1].ref)
    assert route["partner_name_en"] == "City Union"
    assert route["from_status"] == "open"
    assert route["to_status"] == "routed"


def test_projects_nest_milestones_and_name_partners(client, world):
    [project] = read_json(client.get("/data/projects.json"))
    assert project["title"] == "Safer streets"
    assert project["budget"] == 12345.5
    assert project["lead_partner_name_zh"] == "市总工会"
    assert project["supporting_partner_names_en"] == ["Youth League"]
    assert project["need_refs"] == [world.listed[0].ref]  # the unlisted need is left out
    assert [m["title"] for m in project["milestones"]] == ["Survey", "Install"]
    assert project["milestones"][1]["done_on"] == "2026-02-01"
    assert project["milestones"][1]["late"] is False

    [row] = read_csv(client.get("/data/projects.csv"))
    assert row["budget"] == "12345.50"
    assert row["supporting_partner_names_zh"] == "团市委"
    milestones = read_csv(client.get("/data/milestones.csv"))
    assert [m["title"] for m in milestones] == ["Survey", "Install"]
    assert milestones[0]["project_id"] == str(world.project.id)


def test_round_results_show_votes_and_turnout_after_the_end(client, world):
    [round_] = read_json(client.get("/data/rounds.json"))
    assert round_["state"] == "ended"
    assert round_["voter_count"] == 1
    assert round_["eligible_members"] >= 1
    assert 0 < round_["turnout"] <= 1
    items = round_["items"]
    assert [i["rank"] for i in items] == [2, 1]
    assert [i["vote_count"] for i in items] == [0, 1]
    assert items[1]["need_ref"] == world.listed[1].ref
    flat = read_csv(client.get("/data/round-items.csv"))
    assert [r["vote_count"] for r in flat] == ["0", "1"]


def test_open_rounds_hide_counts_and_future_rounds_are_absent(client, world):
    from portal.voting.models import PriorityRound

    round_ = db.session.scalar(sa.select(PriorityRound))
    round_.ends_at = utcnow() + timedelta(days=1)
    future = PriorityRound(
        title="Later",
        starts_at=utcnow() + timedelta(days=3),
        ends_at=utcnow() + timedelta(days=4),
    )
    db.session.add(future)
    db.session.commit()
    rounds = read_json(client.get("/data/rounds.json"))
    assert [r["title"] for r in rounds] == ["Spring priorities"]
    assert rounds[0]["state"] == "open"
    assert rounds[0]["turnout"] is None
    assert {i["vote_count"] for i in rounds[0]["items"]} == {None}


def test_partner_metrics_list_every_active_partner(client, world):
    rows = read_json(client.get("/data/partner-metrics.json"))
    by_name = {r["name_en"]: r for r in rows}
    assert {"City Union", "Youth League"} <= set(by_name)
    union = by_name["City Union"]
    assert union["routed"] == 2
    assert union["accepted"] == 2
    assert union["resolved"] == 1
    assert union["resolution_rate"] == 0.5
    assert union["period_start"] < union["period_end"]
    csv_rows = read_csv(client.get("/data/partner-metrics.csv?start=2000-01-01&end=2000-12-31"))
    union = next(r for r in csv_rows if r["name_en"] == "City Union")
    assert union["routed"] == "0"
    assert union["response_rate"] == ""
    assert union["period_start"] == "2000-01-01T00:00:00Z"
    assert union["period_end"] == "2001-01-01T00:00:00Z"


def test_cells_that_spreadsheets_would_run_are_neutralised(client, app):
    category = make_category(code="c")
    titles = ['=HYPERLINK("http://evil")', "+1 more", "-2 left", "@SUM(A1)", "\tTabbed title"]
    for title in titles:
        make_need(NeedStatus.OPEN, category=category, title=title, body="=cmd|' /C calc'!A0 body")
    db.session.commit()
    rows = read_csv(client.get("/data/needs.csv"))
    assert [r["title"] for r in rows] == ["'" + t for t in titles]
    assert {r["body"] for r in rows} == {"'=cmd|' /C calc'!A0 body"}
    # JSON is data, not a spreadsheet: it keeps the text as it is.
    assert [r["title"] for r in read_json(client.get("/data/needs.json"))] == titles


def test_chinese_text_survives_the_round_trip(client, app):
    category = make_category(code="zh", name_zh="环境卫生")
    make_need(
        NeedStatus.OPEN,
        category=category,
        title="小区垃圾清运不及时",
        body="每天晚上垃圾桶都满了。",
    )
    db.session.commit()
    [row] = read_csv(client.get("/data/needs.csv"))
    assert row["title"] == "小区垃圾清运不及时"
    assert row["category_name_zh"] == "环境卫生"
    assert "小区垃圾清运不及时" in client.get("/data/needs.json").get_data(as_text=True)


def test_the_period_filter_narrows_needs_and_events(client, world):
    today = utcnow().date().isoformat()
    rows = read_csv(client.get(f"/data/needs.csv?start={today}&end={today}"))
    assert len(rows) == len(world.listed)
    assert read_csv(client.get("/data/needs.csv?end=2001-01-01")) == []
    assert read_json(client.get("/data/events.json?start=2999-01-01")) == []
    assert len(read_json(client.get(f"/data/events.json?start={today}"))) > 0


def test_a_bad_period_is_a_clear_error(client, world):
    response = client.get("/data/needs.csv?start=yesterday")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "must be a date written as YYYY-MM-DD" in html
    assert 'value="yesterday"' in html  # what was typed stays in the form
    response = client.get("/data/events.json?start=2026-02-01&end=2026-01-01")
    assert response.status_code == 400
    assert "The end date must not be before the start date." in response.get_data(as_text=True)


def test_unknown_data_sets_and_formats_are_not_found(client, world):
    for url in ("/data/users.csv", "/data/needs.xml", "/data/needs", "/data/contacts.json"):
        assert client.get(url).status_code == 404, url


def _bulk_needs(n: int) -> None:
    category = make_category(code="bulk")
    now = utcnow()
    db.session.execute(
        sa.insert(Need),
        [
            {
                "ref": f"N-2026-{i:06d}",
                "title": f"Bulk need {i}",
                "body": "A description that is long enough.",
                "category_id": category.id,
                "status": NeedStatus.OPEN,
                "is_listed": True,
                "tracking_token_hash": f"{i:064d}",
                "idempotency_key": f"{i:032d}",
                "created_at": now,
                "updated_at": now,
                "published_at": now,
            }
            for i in range(1, n + 1)
        ],
    )
    db.session.commit()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_downloads_stream_in_small_batches(client, queries, fmt):
    _bulk_needs(300)
    with queries() as statements:
        response = client.get(f"/data/needs.{fmt}")
        assert response.is_streamed
        chunks = list(response.response)
    batches = [s for s in statements if "FROM needs" in s]
    assert len(batches) == 300 // 7 + 1  # keyset pages of 7 rows, not one big read
    assert len(chunks) >= 300 // 7
    body = b"".join(chunks)
    if fmt == "csv":
        lines = body.decode("utf-8-sig").splitlines()
        assert len(lines) == 301
        assert lines[-1].startswith("N-2026-000300,")
    else:
        objects = json.loads(body)
        assert [o["ref"] for o in objects] == [f"N-2026-{i:06d}" for i in range(1, 301)]
