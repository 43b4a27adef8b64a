"""The plan's information-sharing flows and time targets, as listed from the plan's own text.

This is the catalogue `govstream flows` prints; flows with a processor module are marked as
implemented so a reader sees at once what the simulator covers and what it does not yet.
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
        "amr company established → housing-fund, bank, real-estate",
        "e-business-licence and e-seal accepted across agencies",
        "on establishment (设立即发放)",
    ),
    PlanFlow(
        "F03",
        "M5",
        "amr company deregistered → police, bank, housing-fund",
        "deregistration shared for seal, bank-account and fund-account cancellation",
        "real time (实时)",
    ),
    PlanFlow(
        "F04",
        "M6, M8",
        "gov-services utility application → water, power, gas",
        "online application, query, payment",
        "water ≤ 9 WD; low-voltage power ≤ 8 WD; 10 kV power ≤ 30 WD average; gas ≤ 13 WD",
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
        "—",
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
        "registration data for same-time utility account transfer (同步过户)",
        "—",
    ),
    PlanFlow(
        "F11", "M28–M30", "taxpayer filings → tax", "merged declarations, pre-filled refunds", "—"
    ),
    PlanFlow(
        "F12",
        "M32",
        "drc/amr dishonesty records → subscribers",
        "sharing stops at once after credit repair",
        "≥ 2000 entities using the credit code",
    ),
    PlanFlow(
        "F13",
        "M33",
        "court, inspections, complaints → supervision-platform",
        "real-time aggregation and risk warnings",
        "100 % completion / collection / response",
    ),
    PlanFlow(
        "F14",
        "M40",
        "unemployed person → hrss",
        "unemployment insurance transfer",
        "benefit claim ≤ 1 WD",
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
        "contract ≤ 20 days; acceptance ≤ 7 WD; payment ≤ 5 WD; prepayment ≥ 30 %",
    ),
    PlanFlow(
        "F18",
        "M48",
        "policy published → enterprises; request → department → reply",
        "policy push and feedback",
        "按时办结、及时反馈",
    ),
)
