"""F11 — plan measures 28 to 30: a taxpayer's period filing declared once for all its taxes,
and its VAT excess-credit refund applied for on a pre-filled application.

Plan text (渝中府办〔2021〕16号):

- measure 28: "压减税费缴纳次数和时间。按照市级统一部署，推行“十一税合一”，实现财产和行为税、
  资源和环境税、企业所得税跨税种合并申报" — fewer filings and less time: the property and
  behaviour taxes, the resource and environment taxes and corporate income tax declared
  together, across taxes, in one declaration (eleven taxes in one).
- measure 29: "优化电子税务局增值税申报辅助功能，实现小规模纳税人申报“零材料”" — the e-tax
  bureau helps fill the VAT return; a small-scale taxpayer files with no materials at all.
- measure 30: "优化电子税务局申请增值税增量留抵退税功能，推行增值税“报退合一”，纳税人填报留抵
  退税申请即实现退税申请基础信息自动填入，压减留抵退税办理时间" — filing and refund in one:
  as the taxpayer opens the credit-refund application, its basic information is filled in
  automatically, which cuts the time a refund takes.

The source agency is `tax`: the filing is made in its e-tax bureau (电子税务局), whose record
of it starts the case. Every step is tax's: its e-tax bureau's (the declaration, the pre-fill)
and its refund desk's (the decisions), one pool of servers in a scenario:

- `declaration`: the e-tax bureau accepts the period's declaration: the VAT return and every
  other tax the taxpayer owes, merged into it, one declaration instead of one filing per tax
  (十一税合一). A request/reply step: the answer is the declaration's serial number, which a
  refund application follows. A small-scale filer's declaration carries no materials (M29):
  the request is the return's figures and nothing else.
- Then, for a general taxpayer applying for the refund of its incremental excess credit
  (增量留抵退税), one of two paths, as the filing's data says (the share on each is the
  producer's `prefilled_share`):
  - pre-filled (报退合一): `refund-prefill`, tax filling in the application from the
    declaration it just accepted and the VAT invoices it already holds (a request/reply step:
    the increment, the input-composition ratio and the refund it allows); then
    `prefilled-submission`, the taxpayer checking the filled-in form and submitting it (a wait,
    the taxpayer the party); then `prefilled-refund-decision`, the refund desk deciding it.
  - manual: `manual-application`, the taxpayer compiling the application itself, the ratio
    from its own invoice ledger (a wait, the taxpayer the party: the time the pre-fill saves);
    then `manual-refund-decision`, the refund desk deciding it.

Why a decision step per path rather than one decision after either: a span runs between two
marks of a case, and one shared decision's mark would put both paths in one histogram. With a
decision step on each path, `filing-to-refund-prefilled` and `filing-to-refund-manual` run
from the same filing to the same kind of decision, each over its own path's cases only (a
skipped step leaves no mark), so the report shows the two latencies side by side; the desk's
own time on each path shows too (a pre-filled application was checked against the invoices
as it was filled, so a scenario may give its decision less work).

The plan sets no number for any of this (FLOWS.md: "—"): M28 and M30 say 压减 (cut) of the
time, a comparison, not a limit. The study scenario's targets are its author's.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from processors.events import Record
from processors.flow import Applies, CaseView, FlowSpec, PlanTarget, Source, Span, Step
from producers.tax import TaxFilingGenerator, TaxFilingMix, refund_yuan

DECLARATION = "declaration"
PREFILL = "refund-prefill"
PREFILLED_SUBMISSION = "prefilled-submission"
PREFILLED_DECISION = "prefilled-refund-decision"
MANUAL_APPLICATION = "manual-application"
MANUAL_DECISION = "manual-refund-decision"
TAXPAYER = "taxpayer"
"""Who is waited on while an application is checked or compiled: the taxpayer."""


def to_declaration(case: CaseView) -> Record:
    trigger = case.trigger
    vat = trigger["vat_return"]
    return {
        "uscc": trigger["uscc"],
        "taxpayer_name": trigger["taxpayer_name"],
        "vat_taxpayer_kind": trigger["vat_taxpayer_kind"],
        "tax_period": trigger["tax_period"],
        "filed_on": trigger["filed_on"],
        "sales_yuan": vat["sales_yuan"],
        "output_tax_yuan": vat["output_tax_yuan"],
        "input_tax_yuan": vat["input_tax_yuan"],
        "ending_credit_yuan": vat["ending_credit_yuan"],
        "merged_taxes": trigger["merged_taxes"],
    }


def accept_declaration(request: Record, rng: random.Random) -> Mapping[str, str]:
    """The e-tax bureau's answer: the declaration's serial number (申报序号)."""
    return {"declaration_id": f"SB{request['uscc']}{rng.randrange(10**9, 10**10)}"}


def to_prefill(case: CaseView) -> Record:
    trigger = case.trigger
    vat = trigger["vat_return"]
    return {
        "uscc": trigger["uscc"],
        "tax_period": trigger["tax_period"],
        "declaration_id": _declaration_id(case),
        "base_credit_yuan": vat["base_credit_yuan"],
        "ending_credit_yuan": vat["ending_credit_yuan"],
    }


def prefill_application(request: Record, rng: random.Random) -> Mapping[str, str]:
    """The pre-filled application's basic information: the increment from the two returns,
    the input-composition ratio from the VAT invoices tax holds (drawn here, as the taxpayer's
    own ledger is drawn by the producer), and the refund the rule allows."""
    increment = int(request["ending_credit_yuan"]) - int(request["base_credit_yuan"])
    ratio = round(rng.uniform(0.7, 1.0), 4)
    return {
        "incremental_credit_yuan": str(increment),
        "composition_ratio": str(ratio),
        "refund_claimed_yuan": str(refund_yuan(increment, ratio)),
    }


def _declaration_id(case: CaseView) -> str:
    return str((case.replies.get(DECLARATION) or {})["declaration_id"])


def _decision(case: CaseView, increment: int, ratio: float, claimed: int) -> Record:
    trigger = case.trigger
    application = trigger["refund_application"]
    return {
        "uscc": trigger["uscc"],
        "taxpayer_name": trigger["taxpayer_name"],
        "tax_period": trigger["tax_period"],
        "declaration_id": _declaration_id(case),
        "incremental_credit_yuan": increment,
        "composition_ratio": ratio,
        "refund_claimed_yuan": claimed,
        "refund_bank_code": application["refund_bank_code"],
        "refund_account_number": application["refund_account_number"],
    }


def to_prefilled_decision(case: CaseView) -> Record:
    """The application as the e-tax bureau filled it in."""
    filled = case.replies.get(PREFILL) or {}
    return _decision(
        case,
        int(filled["incremental_credit_yuan"]),
        float(filled["composition_ratio"]),
        int(filled["refund_claimed_yuan"]),
    )


def to_manual_decision(case: CaseView) -> Record:
    """The application as the taxpayer compiled it from its own returns and ledger."""
    trigger = case.trigger
    vat = trigger["vat_return"]
    increment = int(vat["ending_credit_yuan"]) - int(vat["base_credit_yuan"])
    ratio = float(trigger["refund_application"]["ledger_composition_ratio"])
    return _decision(case, increment, ratio, refund_yuan(increment, ratio))


def _on_path(path: str) -> Applies:
    def applies(trigger: Record) -> bool:
        application = trigger.get("refund_application")
        return application is not None and application["path"] == path

    applies.__name__ = f"applies_{path.lower()}"
    return applies


prefilled = _on_path("PREFILLED")
manual = _on_path("MANUAL")


FLOW = FlowSpec(
    id="F11",
    title="Tax filing: one merged declaration, then a VAT credit refund, pre-filled or compiled",
    measures=("M28", "M29", "M30"),
    source=Source(
        agency="tax",
        topic="tax.tax-filing-submitted.v1",
        schema="f11/TaxFilingSubmitted.avsc",
        mix_type=TaxFilingMix,
        build=TaxFilingGenerator,
    ),
    steps=(
        Step(
            DECLARATION,
            "accept the period's declaration, every tax merged in one (十一税合一)",
            agency="tax",
            topic="tax.merged-declaration-request.v1",
            schema="f11/DeclarationRequest.avsc",
            request=to_declaration,
            reply=accept_declaration,
            reply_fields=("declaration_id",),
        ),
        Step(
            PREFILL,
            "pre-fill the refund application from the declaration and the invoices held",
            agency="tax",
            topic="tax.refund-prefill-request.v1",
            schema="f11/RefundPrefillRequest.avsc",
            request=to_prefill,
            after=(DECLARATION,),
            applies=prefilled,
            reply=prefill_application,
            reply_fields=("incremental_credit_yuan", "composition_ratio", "refund_claimed_yuan"),
        ),
        Step(
            PREFILLED_SUBMISSION,
            "the taxpayer checks the pre-filled application and submits it",
            agency=None,
            after=(PREFILL,),
            applies=prefilled,
            party=TAXPAYER,
        ),
        Step(
            PREFILLED_DECISION,
            "decide the pre-filled refund application",
            agency="tax",
            topic="tax.prefilled-refund-decision-request.v1",
            schema="f11/PrefilledRefundDecisionRequest.avsc",
            request=to_prefilled_decision,
            after=(PREFILLED_SUBMISSION,),
            applies=prefilled,
        ),
        Step(
            MANUAL_APPLICATION,
            "the taxpayer compiles the refund application itself",
            agency=None,
            after=(DECLARATION,),
            applies=manual,
            party=TAXPAYER,
        ),
        Step(
            MANUAL_DECISION,
            "decide the refund application the taxpayer compiled",
            agency="tax",
            topic="tax.manual-refund-decision-request.v1",
            schema="f11/ManualRefundDecisionRequest.avsc",
            request=to_manual_decision,
            after=(MANUAL_APPLICATION,),
            applies=manual,
        ),
    ),
    spans=(
        Span(
            "filing-to-declared",
            "trigger",
            f"{DECLARATION}.acted",
            "from the filing to its one merged declaration accepted",
        ),
        Span(
            "filing-to-refund-prefilled",
            "trigger",
            f"{PREFILLED_DECISION}.acted",
            "from the filing to the refund decided, on the pre-filled path (报退合一)",
        ),
        Span(
            "filing-to-refund-manual",
            "trigger",
            f"{MANUAL_DECISION}.acted",
            "from the filing to the refund decided, the taxpayer compiling the application",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M28",
            quote_zh="压减税费缴纳次数和时间。按照市级统一部署，推行“十一税合一”，实现财产和行为税、"
            "资源和环境税、企业所得税跨税种合并申报",
            meaning="fewer filings and less time: eleven taxes declared in one declaration; "
            "the plan sets no number",
        ),
        PlanTarget(
            measure="M29",
            quote_zh="优化电子税务局增值税申报辅助功能，实现小规模纳税人申报“零材料”",
            meaning="a small-scale taxpayer's VAT return needs no materials; no time is set",
        ),
        PlanTarget(
            measure="M30",
            quote_zh="推行增值税“报退合一”，纳税人填报留抵退税申请即实现退税申请基础信息自动填入，"
            "压减留抵退税办理时间",
            meaning="the refund application's basic information is filled in automatically, "
            "cutting the time a credit refund takes; a cut (压减), not a number",
        ),
    ),
)
