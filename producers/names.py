"""Chinese company names, personal names and Yuzhong District addresses.

Payloads carry real-looking text so that message sizes, UTF-8 handling and masking in logs are
exercised as they would be with production data. Names are sampled, not looked up: any match
with a real company or person is chance.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from producers.draw import Weighted, chars

# --- Companies ----------------------------------------------------------------------------

_TRADE_NAME_CHARS = tuple(
    dict.fromkeys(
        "渝嘉陵江朝天山城鸿达汇通锦程华宇瑞丰恒信博远聚源新航"
        "金鼎盛泰佳和弘毅中联合创宏图永隆成荣昌德顺安康智慧"
        "海纳正云帆优品乐行方圆世纪凯旋兴邦立致星辰晨曦"
    )
)

_INDUSTRIES = (
    "科技",
    "信息技术",
    "商贸",
    "贸易",
    "餐饮管理",
    "企业管理咨询",
    "文化传媒",
    "建筑工程",
    "物业管理",
    "实业",
    "广告",
    "网络科技",
    "教育咨询",
    "医药",
    "房地产经纪",
    "酒店管理",
    "供应链管理",
    "设计",
)

_COMPANY_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
_COMPANY_FORM_WEIGHTS = (0.72, 0.24, 0.04)


_COMPANY_FORM = Weighted(_COMPANY_FORMS, _COMPANY_FORM_WEIGHTS)


def company_name(rng: random.Random) -> str:
    """重庆 + two-character trade name + industry + legal form, e.g. 重庆鸿达商贸有限公司."""
    trade_name = "".join(rng.sample(_TRADE_NAME_CHARS, 2))
    industry = rng.choice(_INDUSTRIES)
    form = _COMPANY_FORM.pick(rng)
    return f"重庆{trade_name}{industry}{form}"


# --- People -------------------------------------------------------------------------------

# Common surnames, weighted roughly by their frequency in Chongqing.
_SURNAMES = (
    ("王", 6.0),
    ("李", 7.0),
    ("张", 5.5),
    ("刘", 5.5),
    ("陈", 7.5),
    ("杨", 4.5),
    ("黄", 3.0),
    ("周", 3.5),
    ("吴", 2.5),
    ("何", 3.0),
    ("谭", 2.5),
    ("罗", 2.5),
    ("唐", 2.0),
    ("邓", 2.0),
    ("冉", 1.0),
    ("向", 1.2),
    ("徐", 1.5),
    ("赵", 1.5),
    ("胡", 1.5),
    ("曾", 1.5),
    ("彭", 1.5),
    ("谢", 1.3),
    ("蒋", 1.2),
    ("余", 1.2),
    ("冯", 1.0),
    ("袁", 1.0),
    ("秦", 0.8),
    ("文", 0.8),
    ("郑", 0.8),
    ("马", 0.8),
    ("熊", 0.8),
    ("魏", 0.7),
    ("欧阳", 0.2),
    ("司马", 0.05),
)
_GIVEN_CHARS = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰"
    "红飞鹏浩宇欣怡梓涵子轩俊晨雪婷颖琳波斌健宏亮春梅"
    "思雨佳睿博文林凯建国小燕莉倩露川渝江嘉成"
)


_SURNAME = Weighted([s for s, _ in _SURNAMES], [w for _, w in _SURNAMES])


def person_name(rng: random.Random) -> str:
    """Surname plus a one- or two-character given name, the usual mainland shapes."""
    surname = _SURNAME.pick(rng)
    given_length = 1 if rng.random() < 0.3 else 2
    return surname + chars(rng, _GIVEN_CHARS, given_length)


# --- Addresses ----------------------------------------------------------------------------

SUB_DISTRICT_ROADS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "解放碑街道": ("民族路", "邹容路", "五一路", "八一路", "民权路", "青年路", "较场口"),
        "朝天门街道": ("新华路", "陕西路", "朝东路", "信义街", "千厮门行街"),
        "七星岗街道": ("中山一路", "和平路", "金汤街", "领事巷", "民生路"),
        "两路口街道": ("中山二路", "中山三路", "长江一路", "文化街"),
        "上清寺街道": ("中山三路", "中山四路", "人民路", "美专校街"),
        "大溪沟街道": ("人民路", "人和街", "双钢路", "大溪沟街"),
        "菜园坝街道": ("菜袁路", "南区路", "燕喜洞"),
        "南纪门街道": ("凯旋路", "解放西路", "中兴路", "储奇门"),
        "石油路街道": ("石油路", "渝州路", "大黄路"),
        "大坪街道": ("大坪正街", "长江二路", "大坪支路"),
        "化龙桥街道": ("瑞天路", "虎踞路", "化龙桥正街"),
        "望龙门街道": ("解放东路", "白象街", "沧白路", "望龙门"),
    }
)
"""Yuzhong's sub-districts and streets in each; addresses are drawn within one sub-district."""


@dataclass(frozen=True, slots=True)
class Address:
    """A Yuzhong address kept in parts, so a scenario can group cases by sub-district."""

    sub_district: str
    road: str
    number: int
    building: int | None
    floor: int
    room: int

    @property
    def text(self) -> str:
        building = f"{self.building}栋" if self.building is not None else ""
        return f"重庆市渝中区{self.road}{self.number}号{building}{self.floor}-{self.room}"

    def __str__(self) -> str:
        return self.text


_SUB_DISTRICTS = tuple(SUB_DISTRICT_ROADS)


def yuzhong_address(rng: random.Random, sub_district: str | None = None) -> Address:
    """An address in Yuzhong: street number, optional building, then floor-room."""
    if sub_district is None:
        sub_district = rng.choice(_SUB_DISTRICTS)
    elif sub_district not in SUB_DISTRICT_ROADS:
        raise ValueError(f"{sub_district!r} is not a Yuzhong sub-district")
    road = rng.choice(SUB_DISTRICT_ROADS[sub_district])
    building = rng.randint(1, 6) if rng.random() < 0.35 else None
    return Address(
        sub_district=sub_district,
        road=road,
        number=rng.randint(1, 260),
        building=building,
        floor=rng.randint(1, 45),
        room=rng.randint(1, 12),
    )
