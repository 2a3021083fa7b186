"""The tree: paths, subtrees as one range, creating, editing and moving areas."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.areas import services, tree
from portal.areas.models import MAX_DEPTH, Area, path_range, subtree, subtree_ids
from portal.areas.services import AreaError, AreaValues
from portal.auth.models import Role
from portal.extensions import db
from tests.areas.conftest import audit_rows
from tests.factories import make_area, make_user


def _codes(condition) -> set[str]:
    return set(db.session.scalars(sa.select(Area.code).where(condition)))


def test_an_area_knows_its_depth_and_the_ids_above_it(city):
    assert city.city.depth == 0 and city.city.path == f"/{city.city.id}/"
    assert city.nanjing_road.depth == 2
    assert city.nanjing_road.path == f"/{city.city.id}/{city.huangpu.id}/{city.nanjing_road.id}/"
    assert city.nanjing_road.lineage_ids == [city.city.id, city.huangpu.id, city.nanjing_road.id]
    assert [a.code for a in tree.ancestors(city.bund)] == ["310000", "310101", "310101013"]


def test_a_subtree_is_the_area_and_everything_under_it(city):
    assert _codes(subtree(city.huangpu.path)) == {"310101", "310101002", "310101013"}
    assert _codes(subtree(city.pudong.path)) == {"310115"}
    assert len(_codes(subtree(city.city.path))) == 7


def test_the_range_of_area_1_leaves_out_area_10_and_up(app):
    """'/1/' must not take in '/10/' or '/12/': the range stops before '/10'."""
    areas = [make_area(f"T{n}") for n in range(12)]
    first, tenth = areas[0], areas[9]
    assert (first.id, tenth.id) == (1, 10)
    child = make_area("T1-child", first)
    assert _codes(subtree(first.path)) == {"T0", "T1-child"}
    assert path_range("/1/") == ("/1/", "/10")
    assert set(db.session.scalars(subtree_ids(tenth.path))) == {tenth.id}
    assert child.path == "/1/13/"


def test_creating_an_area_writes_an_audit_row(app):
    admin = make_user(Role.ADMIN)
    area = services.create_area(AreaValues("310000", "上海市", "Shanghai"), None, admin)
    rows = audit_rows("area.create")
    assert [(r.actor_id, r.object_id) for r in rows] == [(admin.id, str(area.id))]
    assert rows[0].after["code"] == "310000"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        (AreaValues("", "名"), "code"),
        (AreaValues("has space", "名"), "code"),
        (AreaValues("a/b", "名"), "code"),
        (AreaValues("x" * 41, "名"), "code"),
        (AreaValues("ok", ""), "name_zh"),
        (AreaValues("ok", "名", lat=31.2), "lat"),
        (AreaValues("ok", "名", lat=91, lon=0), "lat"),
        (AreaValues("ok", "名", lat=0, lon=181), "lon"),
        (AreaValues("ok", "名", position=10_001), "position"),
    ],
)
def test_bad_values_are_refused_on_their_field(app, values, field):
    with pytest.raises(AreaError) as refused:
        services.create_area(values, None, None)
    assert refused.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(Area.id))) == 0


def test_a_code_is_unique_and_the_tree_has_a_depth_limit(city):
    with pytest.raises(AreaError, match="Another area already uses this code"):
        services.create_area(AreaValues("310101", "重复"), None, None)
    parent = city.nanjing_road
    for level in range(parent.depth + 1, MAX_DEPTH):
        parent = make_area(f"deep{level}", parent)
    with pytest.raises(AreaError, match="at most 6 levels"):
        services.create_area(AreaValues("too-deep", "太深"), parent, None)


def test_moving_an_area_moves_its_subtree_and_keeps_its_needs(city):
    from tests.factories import make_need

    need, _ = make_need(area=city.bund)
    admin = make_user(Role.ADMIN)
    values = AreaValues("310101", "黄浦区", "Huangpu", position=1)
    assert services.update_area(city.huangpu, values, city.xuhui, admin)

    db.session.expire_all()
    moved = db.session.get(Area, city.huangpu.id)
    bund = db.session.get(Area, city.bund.id)
    assert moved.parent_id == city.xuhui.id and moved.depth == 2
    assert bund.depth == 3
    assert bund.path == f"/{city.city.id}/{city.xuhui.id}/{city.huangpu.id}/{city.bund.id}/"
    assert _codes(subtree(city.xuhui.path)) == {
        "310104",
        "310104003",
        "310101",
        "310101002",
        "310101013",
    }
    assert need.area_id == city.bund.id
    (row,) = audit_rows("area.update")
    assert row.before == {"parent": "310000"} and row.after == {"parent": "310104"}


def test_an_area_cannot_move_under_itself(city):
    values = AreaValues("310101", "黄浦区", "Huangpu", position=1)
    with pytest.raises(AreaError, match="under itself") as refused:
        services.update_area(city.huangpu, values, city.bund, None)
    assert refused.value.field == "parent_code"


def test_editing_without_a_change_changes_nothing(city):
    values = AreaValues("310115", "浦东新区", "Pudong", position=3)
    assert services.update_area(city.pudong, values, city.city, None) is False
    assert audit_rows("area.update") == []


def test_the_choice_shows_a_select_per_level_in_one_query(city, queries):
    db.session.expire_all()
    bund = db.session.get(Area, city.bund.id)
    with queries() as statements:
        choice = tree.choice_for(bund)
    assert len(statements) == 1
    assert [[a.code for a in level.options] for level in choice.levels] == [
        ["310000"],
        ["310101", "310104", "310115"],
        ["310101002", "310101013"],
    ]
    assert [level.selected.code for level in choice.levels] == ["310000", "310101", "310101013"]

    huangpu = tree.choice_for(db.session.get(Area, city.huangpu.id))
    assert huangpu.levels[-1].selected is None  # its streets, none chosen yet
    assert [a.code for a in huangpu.levels[-1].options] == ["310101002", "310101013"]


@pytest.mark.parametrize(
    ("values", "chosen", "unknown"),
    [
        ([], None, False),
        ([""], None, False),
        (["310000", "310101", "310101013"], "310101013", False),
        (["310101"], "310101", False),  # a link names any area
        (["310000", "310101", "310101"], "310101", False),  # "anywhere in" the district
        (["310000", "310104", "310101013"], "310104", False),  # left over from another district
        (["310000", "", "310101013"], "310000", False),
        (["nope"], None, True),
        (["310000", "nope"], "310000", False),
        (["x" * 10_000], None, True),
    ],
)
def test_the_deepest_unbroken_choice_wins(city, values, chosen, unknown):
    found = tree.resolve(values)
    assert (found.area.code if found.area else None, found.unknown) == (chosen, unknown)
