"""The plan's information-sharing flows and time targets, as listed from the plan's own text.

This is the catalogue `govstream flows` prints: the eighteen flows of the plan's measures and
three more sharing exchanges the plan names (F19–F21). Flows with a processor module are marked
as implemented, so a reader sees at once what the simulator covers and what it does not yet.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlanFlow:
    id: str
    measures: str
    route: str
    shared: str
    targets: str


PLAN_FLOWS: tuple[PlanFlow, ...] = (
    PlanFlow(
        "F01",
        "M1, M2",
        "amr company established → bank, hrss, tax, housing-fund",
        "account reservation number, social-insurance enrolment, first tax registration",
        "real time (实时) for the bank number",
    ),
    PlanFlow(
        "F02",
        "M3",
        "amr company established → e-licence and e-seal → housing-fund, bank, real-estate",
        "free e-business-licence and e-seal, accepted for fund deposits, accounts, mortgages",
        "on establishment (设立即发放)",
    ),
    PlanFlow(
        "F03",
        "M5",
        "amr company deregistered → police, bank, housing-fund (and others, 等)",
        "deregistration shared for seal, bank-account and fund-account cancellation",
        "real time (实时)",
    ),
    PlanFlow(
        "F04",
        "M6, M8",
        "gov-services utility application → water, power, gas",
        "online application, query, payment; utilities act early on shared data",
        "water ≤ 9 WD; low-voltage power ≤ 8 WD (digging / green-space filing ≤ 2 days incl. "
        "survey); 10 kV power ≤ 30 WD average; gas ≤ 13 WD",
    ),
    PlanFlow(
        "F05", "M10", "tax, hrss, public bodies → bank", "credit data for loans (银税互动)", "—"
    ),
    PlanFlow(
        "F06", "M11", "finance-office financing demand → bank", "demand matched to products", "—"
    ),
    PlanFlow(
        "F07",
        "M21, M22",
        "one region → another (通办)",
        "cross-region acceptance",
        "川渝通办 batch 2 by end Oct; 跨区县 by end Dec; 74 items 跨省通办 within the year",
    ),
    PlanFlow(
        "F08",
        "M25",
        "construction, real-estate, drc approval systems",
        "real-time sharing; one survey result recognised",
        "real time (数据实时共享)",
    ),
    PlanFlow(
        "F09",
        "M26",
        "tax → real-estate",
        "electronic tax-payment certificate",
        "registration done on the spot (即办即取)",
    ),
    PlanFlow(
        "F10",
        "M27",
        "real-estate property transfer → water, power, gas",
        "registration data for same-time utility account transfer (探索同步过户); "
        "single-entry query of registration, operating and tax data",
        "—",
    ),
    PlanFlow(
        "F11", "M28–M30", "taxpayer filings → tax", "merged declarations, pre-filled refunds", "—"
    ),
    PlanFlow(
        "F12",
        "M32",
        "drc/amr dishonesty records → subscribers; credit repair → retraction",
        "sharing of the record stops at once after credit repair (及时终止共享公开)",
        "≥ 2000 entities using the credit code by year end (a count, not a time)",
    ),
    PlanFlow(
        "F13",
        "M33",
        "court, inspections, complaints → supervision-platform",
        "real-time aggregation, risk warnings, leads pushed to enforcement",
        "real time (实时汇聚); 100 % completion / collection / response (rates, not times)",
    ),
    PlanFlow(
        "F14",
        "M40",
        "unemployed person → hrss",
        "unemployment insurance transfer and benefits decided at once",
        "benefit claim ≤ 1 WD; transfer and approval settled on the spot (即办即结)",
    ),
    PlanFlow("F15", "M41, M43", "court judgment → enforcement", "automatic status, e-service", "—"),
    PlanFlow(
        "F16",
        "M44–M46",
        "court bankruptcy ↔ amr, tax, drc, hrss, bank",
        "information sharing, credit repair, deregistration",
        "—",
    ),
    PlanFlow(
        "F17",
        "M12–M16",
        "finance-bureau procurement life cycle",
        "award → contract → acceptance → invoice → payment",
        "contract ≤ 20 days after award; acceptance ≤ 7 WD after completion; payment ≤ 5 WD "
        "after invoice; prepayment ≥ 30 % (SMEs ≥ 50 %)",
    ),
    PlanFlow(
        "F18",
        "M48",
        "policy published → enterprises; request → department → reply",
        "policy push; enterprise requests answered",
        "finished on time, prompt feedback (按时办结、及时反馈)",
    ),
    PlanFlow(
        "F19",
        "M43",
        "court enforcement case → bank, real-estate (执行查控)",
        "asset search and freezing; enforcement milestones",
        "speed up (加快执行查控), no number",
    ),
    PlanFlow(
        "F20",
        "M4",
        "licence reform (证照分离, 多证合一) → licensing departments",
        "company data shared so permits become filings or notifications",
        "—",
    ),
    PlanFlow(
        "F21",
        "M18",
        "bidder → bank / insurer → bidding platform",
        "electronic guarantees (电子保函) for bids, performance and payment",
        "—",
    ),
)


def plan_flow(flow_id: str) -> PlanFlow | None:
    wanted = flow_id.strip().upper()
    return next((flow for flow in PLAN_FLOWS if flow.id == wanted), None)


def plan_rows() -> list[tuple[str, str, str, str, str, str]]:
    """The table `govstream flows` prints: every plan flow, then any implemented flow the list
    above does not know yet, each marked implemented or not."""
    from processors import FLOWS

    rows = [
        (f.id, f.measures, f.route, f.shared, f.targets, "yes" if f.id in FLOWS else "-")
        for f in PLAN_FLOWS
    ]
    known = {f.id for f in PLAN_FLOWS}
    for flow_id, spec in FLOWS.items():
        if flow_id not in known:
            measures = ", ".join(spec.measures)
            route = f"{spec.source_agency} → {', '.join(spec.agencies)}"
            rows.append((flow_id, measures, route, spec.title, "see the flow module", "yes"))
    return rows
