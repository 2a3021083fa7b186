"""Importing areas from a CSV file: all or nothing, every wrong line reported,
on the admin page and with `flask portal import-areas`."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from portal.areas import services
from portal.areas.models import Area
from portal.areas.services import AreaImportError
from portal.extensions import db
from tests.areas.conftest import audit_rows

GOOD = """code,parent_code,name_zh,name_en,lat,lon
310101002,310101,南京东路街道,East Nanjing Road,31.2384,121.4819
310000,,上海市,Shanghai,31.2304,121.4737
310101,310000,黄浦区,Huangpu,31.2317,121.4846
310104,310000,徐汇区,Xuhui,,
"""


def _areas() -> dict[str, Area]:
    db.session.expire_all()
    return {a.code: a for a in db.session.scalars(sa.select(Area))}


def test_a_file_creates_the_tree_whatever_the_order_of_its_lines(app):
    result = services.import_areas(GOOD.encode(), None, source="shanghai.csv")
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    areas = _areas()
    street = areas["310101002"]
    assert street.parent.code == "310101" and street.parent.parent.code == "310000"
    assert street.depth == 2
    assert street.path == f"/{areas['310000'].id}/{areas['310101'].id}/{street.id}/"
    assert (street.lat, street.lon) == (31.2384, 121.4819)
    assert areas["310104"].lat is None and areas["310104"].name_en == "Xuhui"
    (row,) = audit_rows("area.import")
    assert row.actor_role == "system" and row.object_id == "shanghai.csv"
    assert row.after == {"created": 4, "updated": 0, "unchanged": 0}


def test_importing_again_updates_names_and_keeps_the_rest(app):
    services.import_areas(GOOD.encode(), None)
    again = GOOD.replace("Xuhui,,", "Xuhui District,31.1886,121.4365")
    result = services.import_areas(again.encode(), None)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    xuhui = _areas()["310104"]
    assert xuhui.name_en == "Xuhui District" and xuhui.lat == 31.1886


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_files_from_excel_are_read(app, encoding):
    services.import_areas(GOOD.encode(encoding), None)
    assert _areas()["310000"].name_zh == "上海市"


def test_a_file_with_wrong_lines_saves_nothing_and_lists_every_line(app):
    bad = """code,parent_code,name_zh,name_en,lat,lon
310000,,上海市,Shanghai,,
310101,310000,黄浦区,Huangpu,91,121
310101,310000,黄浦区again,,,
310104,999999,徐汇区,Xuhui,,
,310000,无代码,,,
310115,310000,,Pudong,,
a,b,loop a,,,
b,a,loop b,,,
310116,310000,松江区,Songjiang,31.0,not-a-number
"""
    with pytest.raises(AreaImportError) as refused:
        services.import_areas(bad.encode(), None)
    problems = {(p.line, p.message) for p in refused.value.problems}
    assert (3, "The latitude must be between -90 and 90.") in problems
    assert (4, "The code is already on line 3.") in problems
    assert (5, "Unknown parent code: 999999.") in problems
    assert any(line == 6 and "The code must be" in message for line, message in problems)
    assert (7, "Please give the Chinese name.") in problems
    assert (8, "The parents of this area form a loop.") in problems
    assert (9, "The parents of this area form a loop.") in problems
    assert (10, "lon is not a number.") in problems
    assert not any(line == 2 for line, _m in problems)
    assert refused.value.count == len(refused.value.problems)
    assert _areas() == {}
    assert audit_rows("area.import") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"code,name_zh\n1,x\n", "Missing: parent_code."),
        (b"code,parent_code,name_zh,colour\n1,,x,red\n", "Unknown columns: colour."),
        (b"code,parent_code,name_zh\n", "The file holds no areas."),
        (b"\xff\xfe\x00\x00binary\x00", "UTF-8 or GB18030"),
        (b"code,parent_code,name_zh\n1,,x,extra\n", "more cells than columns"),
    ],
)
def test_a_file_that_is_no_area_list_is_refused_with_a_reason(app, data, message):
    with pytest.raises(AreaImportError) as refused:
        services.import_areas(data, None)
    assert message in refused.value.problems[0].message


def test_an_existing_area_keeps_its_parent(app):
    services.import_areas(GOOD.encode(), None)
    moved = GOOD.replace("310104,310000,", "310104,310101,")
    with pytest.raises(AreaImportError) as refused:
        services.import_areas(moved.encode(), None)
    assert "move it on its own page" in refused.value.problems[0].message
    assert _areas()["310104"].parent.code == "310000"


def test_the_admin_page_imports_a_file(client, admin, post):
    page = client.get("/admin/areas/import")
    assert page.status_code == 200
    assert "Import areas" in page.get_data(as_text=True)

    response = post(
        "/admin/areas/import",
        {"file": (io.BytesIO(GOOD.encode()), "areas.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "4 areas created, 0 updated, 0 unchanged." in listing
    assert "Shanghai" in listing
    (row,) = audit_rows("area.import")
    assert row.actor_id == admin.id and row.object_id == "areas.csv"


def test_the_admin_page_lists_the_wrong_lines_and_saves_nothing(client, admin, post):
    bad = GOOD + "310105,nowhere,长宁区,Changning,,\n310106,310000,,,,\n"
    response = post(
        "/admin/areas/import",
        {"file": (io.BytesIO(bad.encode()), "areas.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was imported: 2 problems in the file." in html
    assert "Line 6:" in html and "Unknown parent code: nowhere." in html
    assert "Line 7:" in html and "Please give the Chinese name." in html
    assert _areas() == {}


def test_the_admin_page_asks_for_a_file(client, admin, post):
    response = post("/admin/areas/import", {})
    assert response.status_code == 422
    assert "Please choose a file." in response.get_data(as_text=True)


def test_the_command_imports_a_file_or_lists_its_problems(app, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "areas.csv"
    good.write_bytes(GOOD.encode("gb18030"))
    result = runner.invoke(args=["portal", "import-areas", str(good)])
    assert result.exit_code == 0, result.output
    assert "Areas: 4 created, 0 updated, 0 unchanged." in result.output
    assert set(_areas()) == {"310000", "310101", "310104", "310101002"}

    bad = tmp_path / "bad.csv"
    bad.write_text("code,parent_code,name_zh\n310105,nowhere,长宁区\n", encoding="utf-8")
    result = runner.invoke(args=["portal", "import-areas", str(bad)])
    assert result.exit_code != 0
    assert "line 2: Unknown parent code: nowhere." in result.output
    assert "310105" not in _areas()
