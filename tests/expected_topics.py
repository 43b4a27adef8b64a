"""What the plan says F03's and F10's recipients consume, and where F03's, F10's and F17's
answers and progress records go, written out independently of the flow modules, so the tests
can check each flow's declaration and the catalog derived from it."""

# Flow -> step -> the request topic its recipient agency consumes (from plan/FLOWS.md).
REQUEST_TOPICS: dict[str, dict[str, str]] = {
    "F03": {
        "police": "police.seal-cancellation-request.v1",
        "bank": "bank.account-closure-request.v1",
        "housing-fund": "housing-fund.account-closure-request.v1",
    },
    "F10": {
        "water": "water.account-transfer-request.v1",
        "power": "power.account-transfer-request.v1",
        "gas": "gas.account-transfer-request.v1",
    },
}

# Flow -> who answers its steps -> the one topic that answerer writes its answers on. An agency
# answers only on its own topic; a wait outside any agency is answered by the platform's wait
# timer. Written out so a change in how they are named shows here.
OUTCOME_TOPICS: dict[str, dict[str, str]] = {
    "F03": {
        "police": "f03.police.step-outcome.v1",
        "bank": "f03.bank.step-outcome.v1",
        "housing-fund": "f03.housing-fund.step-outcome.v1",
    },
    "F10": {
        "water": "f10.water.step-outcome.v1",
        "power": "f10.power.step-outcome.v1",
        "gas": "f10.gas.step-outcome.v1",
    },
    "F17": {
        "purchaser": "f17.purchaser.step-outcome.v1",
        "finance-bureau": "f17.finance-bureau.step-outcome.v1",
        "timer": "f17.timer.step-outcome.v1",
    },
}

# Flow -> the orchestrator's record of every transition, which only the collector reads.
PROGRESS_TOPICS: dict[str, str] = {
    "F03": "f03.case-progress.v1",
    "F10": "f10.case-progress.v1",
    "F17": "f17.case-progress.v1",
}

# The shared outcome topic every answerer of a flow once wrote: retired, read by nobody.
RETIRED_OUTCOME_TOPICS: dict[str, str] = {
    "F03": "f03.step-outcome.v1",
    "F10": "f10.step-outcome.v1",
    "F17": "f17.step-outcome.v1",
}

# A scoring flow -> its sources' signal topics and who writes each, keyed by entity, read by
# the flow's scorer alone; and the scorer's record of each signal, read by the collector alone.
SIGNAL_TOPICS: dict[str, dict[str, str]] = {
    "F13": {
        "court.judgment-against-entity.v1": "court",
        "drc.dishonesty-listed.v1": "drc",
        "amr.inspection-result.v1": "amr",
        "gov-services.complaint-lodged.v1": "gov-services",
    },
}
SCORED_TOPICS: dict[str, str] = {"F13": "f13.signal-scored.v1"}
