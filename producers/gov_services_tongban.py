"""The government services office (gov-services): applications at the Yuzhong counter for items
handled in another region, which start flow F07 (M22, 通办).

Each application names the item (事项) and the region that handles it: another district of
Chongqing (跨区县通办), a city of Sichuan (川渝通办) or another province (跨省通办). The route
is the handling region's, read from its division code (GB/T 2260: 50 Chongqing, 51 Sichuan).

Whether the item is 通办 on the day is decided here, from the acceptance date and the item's
go-live date: items of the batches already live before 2021 are live all year; the plan's new
batches go live on the dates the mix gives, which are the plan's dates by default and knobs a
scenario or a sweep may move (`*_live_from`, written as the day, e.g. 20211031). A date is a
knob of whole numbers because population knobs are numbers; the mix checks it is a real day.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from producers import identifiers, names
from producers.draw import Weighted
from producers.ids import event_id

TOPIC = "gov-services.tongban-application-accepted.v1"

CROSS_DISTRICT = "CROSS_DISTRICT"
SICHUAN_CHONGQING = "SICHUAN_CHONGQING"
CROSS_PROVINCE = "CROSS_PROVINCE"
ROUTES = (CROSS_DISTRICT, SICHUAN_CHONGQING, CROSS_PROVINCE)
"""跨区县通办, 川渝通办, 跨省通办: in the order of the mix's weights and shares."""

ALWAYS_LIVE = dt.date(2020, 12, 31)
"""Go-live of the batches before the plan (跨区县 batches 1 and 2, 川渝 batch 1, the national
跨省通办 items of 2020): live on every day of a 2021 run."""

PLAN_CROSS_DISTRICT_BATCH3 = 20211231
"""M22: 第三批“跨区县通办”事项 ... 2021年12月底实现 (by the end of December)."""
PLAN_CHUANYU_BATCH2 = 20211031
"""M22: 加快推动第二批“川渝通办”事项落地见效，今年10月底前实现 (by the end of October)."""
PLAN_CROSS_PROVINCE_74 = 20211231
"""M22: 74项高频政务服务事项年内实现“跨省通办” (within the year)."""


@dataclass(frozen=True, slots=True)
class Item:
    """A government service item (政务服务事项) as the 通办 lists name it. The codes are this
    simulator's own: the lists publish names and batches, not a code scheme."""

    code: str
    name: str
    batch: str
    new: bool
    """One of the plan's new batches (going live on the mix's date), not one already live."""
    materials: tuple[str, ...]


ITEMS: dict[str, tuple[Item, ...]] = {
    CROSS_DISTRICT: (
        Item(
            "KQX-1-012",
            "城乡居民基本养老保险参保登记",
            "跨区县通办第一批",
            False,
            ("居民身份证", "户口簿"),
        ),
        Item(
            "KQX-2-035",
            "个体工商户设立登记",
            "跨区县通办第二批",
            False,
            ("居民身份证", "经营场所证明", "个体工商户登记申请书"),
        ),
        Item(
            "KQX-3-008",
            "残疾人证新办",
            "跨区县通办第三批",
            True,
            ("居民身份证", "户口簿", "残疾评定表", "近期免冠照片"),
        ),
        Item(
            "KQX-3-021",
            "不动产登记资料查询",
            "跨区县通办第三批",
            True,
            ("居民身份证", "查询申请书"),
        ),
    ),
    SICHUAN_CHONGQING: (
        Item(
            "CY-1-006", "住房公积金单位和个人缴存信息查询", "川渝通办第一批", False, ("居民身份证",)
        ),
        Item("CY-1-019", "社会保障卡申领", "川渝通办第一批", False, ("居民身份证", "近期免冠照片")),
        Item(
            "CY-2-004",
            "企业登记档案查询",
            "川渝通办第二批",
            True,
            ("居民身份证", "查询申请书", "授权委托书"),
        ),
        Item(
            "CY-2-027",
            "出生医学证明补发",
            "川渝通办第二批",
            True,
            ("居民身份证", "出生医学证明补发申请表", "户口簿"),
        ),
    ),
    CROSS_PROVINCE: (
        Item(
            "KS-2020-031",
            "基本养老保险关系转移接续",
            "跨省通办2020年事项",
            False,
            ("居民身份证", "参保缴费凭证"),
        ),
        Item(
            "KS-2021-018",
            "就业创业证申领",
            "跨省通办2021年74项",
            True,
            ("居民身份证", "近期免冠照片"),
        ),
        Item(
            "KS-2021-052",
            "职业资格证书核验",
            "跨省通办2021年74项",
            True,
            ("居民身份证", "职业资格证书"),
        ),
    ),
}
"""The items applied for at the Yuzhong counter, by route: of each, some already live, some of
the plan's new batch. Names from the published 跨区县, 川渝 and 跨省通办 lists."""

REGIONS: dict[str, tuple[tuple[str, str, float], ...]] = {
    CROSS_DISTRICT: (
        ("500106", "重庆市沙坪坝区", 0.22),
        ("500112", "重庆市渝北区", 0.22),
        ("500105", "重庆市江北区", 0.2),
        ("500101", "重庆市万州区", 0.12),
        ("500154", "重庆市开州区", 0.12),
        ("500102", "重庆市涪陵区", 0.12),
    ),
    SICHUAN_CHONGQING: (
        ("510104", "成都市锦江区", 0.3),
        ("510107", "成都市武侯区", 0.3),
        ("511302", "南充市顺庆区", 0.2),
        ("510703", "绵阳市涪城区", 0.2),
    ),
    CROSS_PROVINCE: (
        ("440305", "深圳市南山区", 0.3),
        ("310115", "上海市浦东新区", 0.25),
        ("330106", "杭州市西湖区", 0.2),
        ("110105", "北京市朝阳区", 0.25),
    ),
}
"""Where the items are handled: the regions Yuzhong's residents and workers come from or go
to (division codes per GB/T 2260)."""

_REGION = {route: Weighted(regions, [w for *_, w in regions]) for route, regions in REGIONS.items()}


def route_of(division: str) -> str:
    """The route a handling region's division code puts an application on."""
    if division.startswith("50"):
        if division == identifiers.YUZHONG_DIVISION:
            raise ValueError("an item handled in Yuzhong itself is no 通办")
        return CROSS_DISTRICT
    if division.startswith("51"):
        return SICHUAN_CHONGQING
    return CROSS_PROVINCE


def day(value: int) -> dt.date:
    """A go-live knob's day, written as a number 20211031."""
    text = str(value)
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"{value!r} is not a day written as YYYYMMDD, e.g. 20211031") from None


@dataclass(frozen=True)
class TongbanMix:
    """Where applicants' items are handled, how many are of the plan's new batches, and the
    days those batches go live (the plan's by default)."""

    route_weights: tuple[float, ...] = (0.6, 0.25, 0.15)
    """Relative weights of 跨区县, 川渝 and 跨省 applications. Author's estimate: most of the
    counter's 通办 work is for other districts of the city."""
    new_batch_shares: tuple[float, ...] = (0.3, 0.4, 0.5)
    """For each route, the share of its applications that are for an item of the plan's new
    batch (跨区县 batch 3, 川渝 batch 2, the 74 跨省 items). Author's estimate."""
    cross_district_batch3_live_from: int = PLAN_CROSS_DISTRICT_BATCH3
    chuanyu_batch2_live_from: int = PLAN_CHUANYU_BATCH2
    cross_province_74_live_from: int = PLAN_CROSS_PROVINCE_74

    def __post_init__(self) -> None:
        Weighted(ROUTES, self.route_weights)  # the same checks as where they are used
        if len(self.new_batch_shares) != len(ROUTES) or not all(
            0.0 <= share <= 1.0 for share in self.new_batch_shares
        ):
            raise ValueError(
                f"new_batch_shares: one share from 0 to 1 per route {ROUTES}, "
                f"not {self.new_batch_shares}"
            )
        self.live_from()

    def live_from(self) -> dict[str, dt.date]:
        """Each route's new batch's go-live day."""
        return {
            CROSS_DISTRICT: day(self.cross_district_batch3_live_from),
            SICHUAN_CHONGQING: day(self.chuanyu_batch2_live_from),
            CROSS_PROVINCE: day(self.cross_province_74_live_from),
        }


def application_number(rng: random.Random, on: dt.date) -> str:
    """The counter's acceptance number: TB, Yuzhong's division, the day, a sequence."""
    return f"TB{identifiers.YUZHONG_DIVISION}{on:%Y%m%d}{rng.randrange(10**5):05d}"


class TongbanApplicationGenerator:
    """Draws `TongbanApplicationAccepted` values; all randomness comes from the given `rng`."""

    topic = TOPIC

    def __init__(self, rng: random.Random, mix: TongbanMix | None = None) -> None:
        self._rng = rng
        self.mix = mix if mix is not None else TongbanMix()
        self._route = Weighted(ROUTES, self.mix.route_weights)
        self._live_from = self.mix.live_from()

    def generate(self, case_id: str, on: dt.date) -> dict[str, Any]:
        """One application at the Yuzhong counter on `on`, valid for
        f07/TongbanApplicationAccepted.avsc."""
        rng = self._rng
        route = self._route.pick(rng)
        new = rng.random() < self.mix.new_batch_shares[ROUTES.index(route)]
        item = rng.choice([i for i in ITEMS[route] if i.new == new])
        live_from = self._live_from[route] if item.new else ALWAYS_LIVE
        division, region, _ = _REGION[route].pick(rng)
        born_from, born_until = identifiers.born_between(on, 18, 75)
        return {
            "event_id": event_id(rng),
            "case_id": case_id,
            "application_number": application_number(rng, on),
            "accepted_on": on,
            "route": route_of(division),
            "item": {
                "code": item.code,
                "name": item.name,
                "batch": item.batch,
                "live_from": live_from,
            },
            "live": on >= live_from,
            "handling_region": {"division": division, "region_name": region},
            "applicant": {
                "name": names.person_name(rng),
                "id_number": identifiers.resident_id(
                    rng, born_from=born_from, born_until=born_until
                ),
                "phone": identifiers.mobile_phone(rng),
            },
            "materials": list(item.materials),
        }
