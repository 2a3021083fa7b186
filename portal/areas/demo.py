"""Demo areas for `flask portal seed-demo` (called from portal/demo.py): the
city of the demo needs, its districts and a few streets or townships, with
statistical-style codes and centre points (WGS 84), loaded through the same
CSV import an admin uses."""

from __future__ import annotations

import sqlalchemy as sa

from portal.areas.models import Area
from portal.areas.services import import_areas
from portal.extensions import db

DEMO_AREAS_CSV = """code,parent_code,name_zh,name_en,lat,lon,position
110000,,北京市,Beijing,39.9042,116.4074,0
110101,110000,东城区,Dongcheng District,39.9288,116.4160,1
110102,110000,西城区,Xicheng District,39.9123,116.3660,2
110105,110000,朝阳区,Chaoyang District,39.9219,116.4436,3
110106,110000,丰台区,Fengtai District,39.8585,116.2867,4
110107,110000,石景山区,Shijingshan District,39.9056,116.2229,5
110108,110000,海淀区,Haidian District,39.9590,116.2980,6
110112,110000,通州区,Tongzhou District,39.9025,116.6569,7
110114,110000,昌平区,Changping District,40.2207,116.2312,8
110115,110000,大兴区,Daxing District,39.7269,116.3416,9
110101008,110101,建国门街道,Jianguomen Subdistrict,39.9075,116.4310,0
110101010,110101,和平里街道,Hepingli Subdistrict,39.9580,116.4170,1
110102011,110102,展览路街道,Zhanlanlu Subdistrict,39.9320,116.3440,0
110102016,110102,广安门外街道,Guang'anmenwai Subdistrict,39.8930,116.3400,1
110105001,110105,建外街道,Jianwai Subdistrict,39.9080,116.4590,0
110105007,110105,双井街道,Shuangjing Subdistrict,39.8930,116.4610,1
110105035,110105,望京街道,Wangjing Subdistrict,39.9960,116.4700,2
110106005,110106,方庄地区,Fangzhuang Area,39.8650,116.4330,0
110107001,110107,八角街道,Bajiao Subdistrict,39.9070,116.2110,0
110108009,110108,学院路街道,Xueyuanlu Subdistrict,39.9930,116.3500,0
110108011,110108,中关村街道,Zhongguancun Subdistrict,39.9830,116.3160,1
110112104,110112,马驹桥镇,Majuqiao Town,39.7570,116.5520,0
110114010,110114,天通苑北街道,Tiantongyuan North Subdistrict,40.0830,116.4270,0
110114118,110114,回龙观地区,Huilongguan Area,40.0710,116.3360,1
110115007,110115,旧宫地区,Jiugong Area,39.8090,116.4550,0
110115011,110115,亦庄地区,Yizhuang Area,39.7950,116.5060,1
"""

#: The area of each demo need (by its place in portal.demo.NEEDS); needs
#: without one were sent without an area and wait in triage for it.
DEMO_NEED_AREAS = {
    0: "110105",
    1: "110101008",
    2: "110105035",
    3: "110108009",
    4: "110105",
    5: "110105001",
    6: "110112104",
    7: "110101",
    8: "110112",
    9: "110115011",
    10: "110108",
    11: "110102",
    14: "110106005",
    15: "110114118",
    16: "110114010",
    17: "110106",
    18: "110107",
    19: "110105",
    20: "110102",
    21: "110101010",
    22: "110108",
    24: "110102016",
    25: "110105",
    26: "110107001",
    28: "110101",
    30: "110105007",
    31: "110108011",
    32: "110115007",
    33: "110102011",
    34: "110106",
    35: "110105035",
    36: "110101",
}


def seed_demo_areas() -> dict[str, Area]:
    """The demo tree, by code."""
    import_areas(DEMO_AREAS_CSV.encode(), None, source="demo")
    return {area.code: area for area in db.session.scalars(sa.select(Area))}
