"""What the plan's flows say each recipient agency consumes, written out independently of the
catalog so the tests can check the catalog and the processors against it."""

# Recipient agency -> the one request topic it consumes (from the flows in plan/FLOWS.md).
REQUEST_TOPICS = {
    "police": "police.seal-cancellation-request.v1",
    "bank": "bank.account-closure-request.v1",
    "housing-fund": "housing-fund.account-closure-request.v1",
    "water": "water.account-transfer-request.v1",
    "power": "power.account-transfer-request.v1",
    "gas": "gas.account-transfer-request.v1",
}
