"""What the plan says F03's and F10's recipients consume, written out independently of the flow
modules, so the tests can check each flow's declaration and the catalog derived from it."""

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
