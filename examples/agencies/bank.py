"""The bank's system, as a bank would write it against govstream's published contracts.

It answers the bank's requests: F01's account reservation (a request/reply step: the answer
carries the reserved account number, which tax and the housing fund read) and F03's account
closure, among any other the contracts name. It imports nothing of govstream.

    python examples/agencies/bank.py --contracts asyncapi.json --bootstrap 127.0.0.1:19092
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agency_system import digits, main


def reservation_number(field: str, request: Mapping[str, Any]) -> str:
    """The basic account's reservation number: 12 digits, the same for the same company."""
    return "62" + digits(f"{request['case_id']}/{field}", 10)


if __name__ == "__main__":
    sys.exit(main("bank", {"reservation_number": reservation_number}))
