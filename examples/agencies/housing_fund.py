"""The housing fund's system, as the fund would write it against govstream's contracts.

It answers the fund's requests: F01's unit account opening and F03's unit account closure,
among any other the contracts name. Neither carries a reply. It imports nothing of govstream.

    python examples/agencies/housing_fund.py --contracts asyncapi.json --bootstrap 127.0.0.1:19092
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agency_system import main

if __name__ == "__main__":
    sys.exit(main("housing-fund"))
