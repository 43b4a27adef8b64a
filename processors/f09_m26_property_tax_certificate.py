"""F09 — plan measure 26: the register fetches tax's electronic payment certificate while the
applicant waits at the counter, and registers the transfer on the spot.

Plan text (渝中府办〔2021〕16号, measure 26): "深化不动产登记“一窗办理、即办即取”改革。……完善电子
完税证明和电子票据应用流程，推进不动产登记全流程线上办理。……推动部门间协同互认，扩大电子权证应用场景。"

A transfer is registered only once its taxes are paid (先税后证). Instead of the applicant
fetching a paper certificate from the tax hall, the register asks tax for the electronic one:

- `tax-certificate`: a request/reply step at `tax`. Tax learns the property, the contract and
  the taxpayers' identities, which it needs to find the payments, and answers with the
  certificate number. Phones and the old title certificate stay with the register.
- `registration`: the register's own step (real-estate is both the source and a step agency),
  after tax's answer; its request carries the certificate number from that answer.

What the applicant feels is the time from handing in the application to the registration
being done: the `counter-wait` span, on which the plan's 即办即取 (done on the spot, taken
away at once) is read.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from processors.events import Record
from processors.flow import CaseView, FlowSpec, PlanTarget, Source, Span, Step
from producers import identifiers
from producers.real_estate_registration import (
    RegistrationApplicationGenerator,
    RegistrationMix,
)

TAX_STEP = "tax-certificate"
REGISTRATION_STEP = "registration"


def to_tax(case: CaseView) -> Record:
    trigger = case.trigger
    prop = trigger["property"]
    parties = [("TRANSFEROR", trigger["transferor"])]
    parties += [("TRANSFEREE", party) for party in trigger["transferees"]]
    return {
        "unit_no": prop["unit_no"],
        "address": prop["address"],
        "registration_kind": trigger["registration_kind"],
        "applied_on": trigger["applied_on"],
        "contract_no": trigger["contract_no"],
        "taxable_value_yuan": trigger["taxable_value_yuan"],
        "taxpayers": [
            {
                "role": role,
                "name": party["name"],
                "id_kind": party["id_kind"],
                "id_number": party["id_number"],
            }
            for role, party in parties
        ],
    }


def issue_certificate(request: Record, rng: random.Random) -> Mapping[str, str]:
    """Tax's answer: the electronic tax-payment certificate's number, dated the day asked."""
    return {
        "tax_certificate_no": identifiers.tax_payment_certificate_no(rng, request["applied_on"])
    }


def to_registration(case: CaseView) -> Record:
    trigger = case.trigger
    reply = case.replies.get(TAX_STEP) or {}
    return {
        "application_no": trigger["application_no"],
        "unit_no": trigger["property"]["unit_no"],
        "registration_kind": trigger["registration_kind"],
        "tax_certificate_no": reply.get("tax_certificate_no"),
    }


FLOW = FlowSpec(
    id="F09",
    title="Electronic tax-payment certificate fetched for a property registration at the counter",
    measures=("M26",),
    source=Source(
        agency="real-estate",
        topic="real-estate.registration-applied.v1",
        schema="f09/RegistrationApplied.avsc",
        mix_type=RegistrationMix,
        build=RegistrationApplicationGenerator,
    ),
    steps=(
        Step(
            TAX_STEP,
            "issue the electronic tax-payment certificate for the transaction",
            agency="tax",
            topic="tax.payment-certificate-request.v1",
            schema="f09/TaxPaymentCertificateRequest.avsc",
            request=to_tax,
            reply=issue_certificate,
            reply_fields=("tax_certificate_no",),
        ),
        Step(
            REGISTRATION_STEP,
            "register the transfer with the certified tax payment",
            agency="real-estate",
            topic="real-estate.registration-request.v1",
            schema="f09/RegistrationRequest.avsc",
            request=to_registration,
            after=(TAX_STEP,),
            after_rejection="run",  # the register hears that no payment was certified
        ),
    ),
    spans=(
        Span(
            "counter-wait",
            "trigger",
            f"{REGISTRATION_STEP}.acted",
            "from handing in the application to the registration done",
        ),
    ),
    plan_targets=(
        PlanTarget(
            measure="M26",
            quote_zh="深化不动产登记“一窗办理、即办即取”改革",
            meaning="one window, done on the spot and taken away at once: the registration is "
            "finished while the applicant waits",
        ),
    ),
)
