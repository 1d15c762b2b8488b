"""Typed records of the alerts area; they live in `core.findings`, so storage keeps them without importing alerts."""

from core.findings import SEVERITIES as SEVERITIES
from core.findings import Evidence as Evidence
from core.findings import Finding as Finding
from core.findings import Link as Link
from core.findings import Recorded as Recorded
from core.findings import severity_rank as severity_rank
