"""F17 — plan measures 12–16: a government contract's life cycle on the procurement platform.

Plan text (渝中府办〔2021〕16号):
- measure 12: "实现采购代理机构委托、采购文件编制、项目评审、采购合同签订、履约验收等环节的全程
  线上办理。"
- measure 13: "确保采购单位在中标（成交）通知书发出之日起20日内和中标（成交）供应商签订政府采购
  合同。"
- measure 14: "实现政府采购合同公告和备案及时、规范。合同执行完毕后，采购人或采购代理机构原则上
  应在7个工作日内组织履约情况验收，不得无故拖延或附加额外条件。"
- measure 15: "对满足合同约定支付条件的，采购单位原则上应在收到发票后5个工作日内按程序办理支付
  手续。实现预付款支付比例不低于30%（中小企业不低于50%），减轻中标企业资金压力。"
- measure 16: "采购限额标准以上，200万元以下的货物和服务、400万元以下的工程项目，适宜由
  中小企业提供的，采购人应当专门面向中小企业采购。" The award notice says whether the winner
  is a small or medium firm, which the prepayment floor and the filing both use.

A chain: award notice (the trigger) → contract signed (≤ 20 calendar days, span
`award-to-contract`) → the supplier delivers or completes (a wait, `party="supplier"`) →
acceptance (≤ 7 working days after completion, `completion-to-acceptance`) → the supplier's
invoice (a wait) → payment application → payment (≤ 5 working days after the invoice,
`invoice-to-payment`). Once the contract is signed, its announcement and filing and any
prepayment run beside the delivery.

Who acts. The plan puts contract signing, acceptance and the payment procedure on the
purchasing unit (采购单位, 采购人): a government body, and not one agency of the plan's list
but the district's many budget units. They act as one agency id, `purchaser`, not in FLOWS.md's
table; a scenario's servers there stand for how many contracts the units have in hand at once.
The finance bureau (`finance-bureau`) runs the platform and the treasury: it announces and
files the contract (M14) and pays from the single treasury account (国库集中支付), both the
prepayment and the final payment, on the unit's application.

The prepayment floor is a rule on the award's data, counted in the report: a supplier that
declined prepayment in writing is counted as not applicable rather than as a breach (the
floor is there to ease the supplier's cash flow, which that supplier did not ask for); this
reading is the simulator's, not the plan's.
"""

from __future__ import annotations

import random

from processors.events import Record
from processors.flow import CaseView, FlowSpec, PlanTarget, Rule, Source, Span, Step
from producers.finance_bureau import (
    AwardNoticeGenerator,
    ProcurementMix,
    acceptance_no,
    contract_no,
    invoice,
    prepayment_floor,
)

# -- the plan's rule on the award's data ------------------------------------------------------


def prepayment_meets_floor(trigger: Record) -> bool | None:
    """Measure 15: at least 30 % of the contract prepaid, at least 50 % to a small or medium
    firm; not applicable when the supplier declined prepayment."""
    prepayment = trigger["prepayment"]
    if prepayment["waived"]:
        return None
    return int(prepayment["percent"]) >= prepayment_floor(bool(trigger["supplier"]["sme"]))


def has_prepayment(trigger: Record) -> bool:
    prepayment = trigger["prepayment"]
    return not prepayment["waived"] and int(prepayment["percent"]) > 0


def prepaid_fen(trigger: Record) -> int:
    if not has_prepayment(trigger):
        return 0
    return int(trigger["award_amount_fen"]) * int(trigger["prepayment"]["percent"]) // 100


def balance_fen(trigger: Record) -> int:
    """What the final payment pays: the contract less the prepayment."""
    return int(trigger["award_amount_fen"]) - prepaid_fen(trigger)


# -- what each step's agency is told ------------------------------------------------------------


def replied(case: CaseView, step: str, field: str) -> str:
    """A field of an earlier step's reply; a later step cannot be asked for without it."""
    reply = case.replies.get(step)
    if reply is None or field not in reply:
        raise LookupError(
            f"{case.case_id}: {step} gave no {field!r} (was it rejected?), so the steps after "
            "it have nothing to quote"
        )
    return str(reply[field])


def _contract(case: CaseView) -> str:
    return replied(case, "contract-signing", "contract_no")


def _payee(trigger: Record) -> dict[str, object]:
    supplier = trigger["supplier"]
    return {
        "payee_name": supplier["name"],
        "payee_bank_name": supplier["bank_name"],
        "payee_bank_code": supplier["bank_code"],
        "payee_account": supplier["account_number"],
    }


def to_contract_signing(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "project_no": trigger["project_no"],
        "project_name": trigger["project_name"],
        "category": trigger["category"],
        "notice_published_on": trigger["notice_published_on"],
        "purchaser_uscc": trigger["purchaser"]["uscc"],
        "supplier_name": trigger["supplier"]["name"],
        "supplier_uscc": trigger["supplier"]["uscc"],
        "award_amount_fen": trigger["award_amount_fen"],
        "prepayment_percent": trigger["prepayment"]["percent"],
    }


def signs_contract(request: Record, rng: random.Random) -> dict[str, str]:
    return {"contract_no": contract_no(str(request["project_no"]))}


def to_contract_filing(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "contract_no": _contract(case),
        "project_no": trigger["project_no"],
        "category": trigger["category"],
        "procurement_method": trigger["procurement_method"],
        "purchaser_uscc": trigger["purchaser"]["uscc"],
        "supplier_name": trigger["supplier"]["name"],
        "supplier_uscc": trigger["supplier"]["uscc"],
        "supplier_sme": trigger["supplier"]["sme"],
        "contract_amount_fen": trigger["award_amount_fen"],
    }


def to_prepayment(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "contract_no": _contract(case),
        "purchaser_uscc": trigger["purchaser"]["uscc"],
        **_payee(trigger),
        "amount_fen": prepaid_fen(trigger),
    }


def to_acceptance(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "contract_no": _contract(case),
        "project_no": trigger["project_no"],
        "project_name": trigger["project_name"],
        "category": trigger["category"],
        "supplier_name": trigger["supplier"]["name"],
        "contract_amount_fen": trigger["award_amount_fen"],
    }


def accepts(request: Record, rng: random.Random) -> dict[str, str]:
    return {"acceptance_no": acceptance_no(str(request["contract_no"]))}


def invoices(request: Record, rng: random.Random) -> dict[str, str]:
    return invoice(rng)


def to_payment_application(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "contract_no": _contract(case),
        "acceptance_no": replied(case, "acceptance", "acceptance_no"),
        "invoice_code": replied(case, "invoice", "invoice_code"),
        "invoice_no": replied(case, "invoice", "invoice_no"),
        "supplier_name": trigger["supplier"]["name"],
        "amount_fen": balance_fen(trigger),
    }


def to_treasury_payment(case: CaseView) -> Record:
    trigger = case.trigger
    return {
        "contract_no": _contract(case),
        "invoice_no": replied(case, "invoice", "invoice_no"),
        "purchaser_uscc": trigger["purchaser"]["uscc"],
        **_payee(trigger),
        "amount_fen": balance_fen(trigger),
    }


FLOW = FlowSpec(
    id="F17",
    title="Government procurement life cycle: award, contract, acceptance, invoice, payment",
    measures=("M12", "M13", "M14", "M15", "M16"),
    source=Source(
        agency="finance-bureau",
        topic="finance-bureau.award-notice-published.v1",
        schema="f17/AwardNoticePublished.avsc",
        mix_type=ProcurementMix,
        build=AwardNoticeGenerator,
    ),
    steps=(
        Step(
            "contract-signing",
            "sign the contract with the winning supplier",
            agency="purchaser",
            topic="purchaser.contract-signing-request.v1",
            schema="f17/ContractSigningRequest.avsc",
            request=to_contract_signing,
            reply=signs_contract,
            reply_fields=("contract_no",),
        ),
        Step(
            "contract-filing",
            "announce and file the contract",
            agency="finance-bureau",
            topic="finance-bureau.contract-filing-request.v1",
            schema="f17/ContractFilingRequest.avsc",
            request=to_contract_filing,
            after=("contract-signing",),
        ),
        Step(
            "prepayment",
            "pay the prepayment the contract sets",
            agency="finance-bureau",
            topic="finance-bureau.prepayment-request.v1",
            schema="f17/PrepaymentRequest.avsc",
            request=to_prepayment,
            after=("contract-signing",),
            applies=has_prepayment,
        ),
        Step(
            "delivery",
            "deliver the goods or services, or complete the works (履约)",
            agency=None,
            party="supplier",
            after=("contract-signing",),
        ),
        Step(
            "acceptance",
            "organise the acceptance of the completed contract (履约验收)",
            agency="purchaser",
            topic="purchaser.acceptance-request.v1",
            schema="f17/AcceptanceRequest.avsc",
            request=to_acceptance,
            after=("delivery",),
            reply=accepts,
            reply_fields=("acceptance_no",),
        ),
        Step(
            "invoice",
            "issue the invoice to the purchasing unit",
            agency=None,
            party="supplier",
            after=("acceptance",),
            reply=invoices,
            reply_fields=("invoice_code", "invoice_no"),
        ),
        Step(
            "payment-application",
            "apply to the treasury for payment (按程序办理支付手续)",
            agency="purchaser",
            topic="purchaser.payment-application-request.v1",
            schema="f17/PaymentApplicationRequest.avsc",
            request=to_payment_application,
            after=("invoice",),
        ),
        Step(
            "payment",
            "pay the supplier from the single treasury account",
            agency="finance-bureau",
            topic="finance-bureau.treasury-payment-request.v1",
            schema="f17/TreasuryPaymentRequest.avsc",
            request=to_treasury_payment,
            after=("payment-application",),
        ),
    ),
    spans=(
        Span(
            "award-to-contract",
            "trigger",
            "contract-signing.acted",
            "award notice to contract signed (plan: within 20 days)",
        ),
        Span(
            "completion-to-acceptance",
            "delivery.acted",
            "acceptance.acted",
            "completion to acceptance (plan: within 7 working days)",
        ),
        Span(
            "invoice-to-payment",
            "invoice.acted",
            "payment.acted",
            "invoice received to payment made (plan: within 5 working days)",
        ),
    ),
    rules=(
        Rule(
            "prepayment-share",
            "prepayment at least 30 % of the contract, 50 % for small and medium firms",
            "M15",
            prepayment_meets_floor,
        ),
    ),
    plan_targets=(
        # One entry per measure: reports quote a target's source by its measure.
        PlanTarget(
            measure="M12",
            quote_zh="实现采购代理机构委托、采购文件编制、项目评审、采购合同签订、履约验收等环节的全程线上办理",
            meaning="the whole procurement, contract signing and acceptance included, online",
        ),
        PlanTarget(
            measure="M13",
            quote_zh="确保采购单位在中标（成交）通知书发出之日起20日内和中标（成交）供应商签订政府采购合同",
            meaning="contract signed within 20 calendar days of the award notice",
        ),
        PlanTarget(
            measure="M14",
            quote_zh="合同执行完毕后，采购人或采购代理机构原则上应在7个工作日内组织履约情况验收",
            meaning="acceptance organised, as a rule, within 7 working days of completion",
        ),
        PlanTarget(
            measure="M15",
            quote_zh=(
                "对满足合同约定支付条件的，采购单位原则上应在收到发票后5个工作日内按程序办理支付手续。"
                "实现预付款支付比例不低于30%（中小企业不低于50%）"
            ),
            meaning=(
                "payment, as a rule, within 5 working days of the invoice; prepayment at least "
                "30 % of the contract, 50 % for small and medium firms"
            ),
        ),
    ),
)
