"""Keys of a run record's details (runs.details) that a writer and a reader share: the paid-API sources (X) write
their spend this month and its cap; the dashboard's Sources page reads them."""

from __future__ import annotations

SPEND_USD = "spend_usd"  # spent so far this month, US dollars
CAP_USD = "cap_usd"  # the month's cap, US dollars
