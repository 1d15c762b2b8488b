"""Results as downloadable files: CSV, Parquet, XLSX (ids kept as text, times as UTC without a zone).

Public posts are untrusted text: CSV and XLSX files get OWASP's formula guard (storage/csvsafe.py); in XLSX
openpyxl writes guarded text as a string cell, never a formula (openpyxl turns any string starting with `=` into
one). Parquet is data, not a spreadsheet: it keeps the original text.
"""

from __future__ import annotations

import decimal
import functools
import io
import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import streamlit as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from storage.csvsafe import csv_text, formula_safe

FORMATS = {
    "CSV": ("csv", "text/csv"),
    "Parquet": ("parquet", "application/vnd.apache.parquet"),
    "XLSX": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
XLSX_MAX_ROWS = 1_048_575
Recorder = Callable[[str, int], None]  # (format, rows) -> None; raises if the download cannot be recorded
log = logging.getLogger(__name__)


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "CSV":
        return csv_text(frame).encode("utf-8")
    if fmt == "Parquet":
        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
        return sink.getvalue()
    if len(frame) > XLSX_MAX_ROWS:
        raise ValueError(f"XLSX holds at most {XLSX_MAX_ROWS:,} rows; download CSV or Parquet instead")
    sink = io.BytesIO()
    formula_safe(_spreadsheet_safe(frame)).to_excel(sink, index=False, engine="openpyxl")
    return sink.getvalue()


def _spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists and structs as text; zone-aware times as naive UTC (Excel has no time zones); control characters
    that XLSX cannot hold (openpyxl refuses them) as U+FFFD, so one odd post does not stop the export."""
    out = frame.copy()
    for i in range(out.shape[1]):
        series = out.iloc[:, i]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out.isetitem(i, series.dt.tz_convert("UTC").dt.tz_localize(None))
        elif series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            out.isetitem(i, series.map(_cell))
    return out


def _cell(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT or isinstance(value, int | float | decimal.Decimal):
        return value
    if not isinstance(value, str):
        value = str(value.tolist() if hasattr(value, "tolist") else value)
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def recorded(frame: pd.DataFrame, fmt: str, record: Recorder) -> bytes:
    """The file, built when its button is clicked, and recorded in the audit log before it is handed over.

    Streamlit calls this (the button's deferred `data`) each time the browser asks for the file, on a thread of
    its own: that is an actual download attempt, and only one that produced a file. A button's `on_click`
    callback would also fire when building the file failed, and would rerun the page for nothing. If the
    download cannot be recorded, there is no file: the browser shows "Failed to generate file for download" and
    the reason goes to the dashboard's log (nothing on this thread can reach the page).
    """
    data = to_bytes(frame, fmt)
    try:
        record(fmt, len(frame))
    except Exception:
        log.warning("a %s download of %d rows was refused: it could not be recorded in the audit log", fmt,
                    len(frame), exc_info=True)
        raise
    return data


def download_buttons(frame: pd.DataFrame, stem: str, key: str, record: Recorder) -> None:
    """One button per format; a file is built, and `record`ed, only when its button is clicked."""
    columns = st.columns(len(FORMATS))
    for column, (fmt, (ext, mime)) in zip(columns, FORMATS.items(), strict=True):
        if fmt == "XLSX" and len(frame) > XLSX_MAX_ROWS:
            column.caption(f"XLSX holds at most {XLSX_MAX_ROWS:,} rows")
            continue
        column.download_button(f"Download {fmt}", functools.partial(recorded, frame, fmt, record),
                               file_name=f"{stem}.{ext}", mime=mime, key=f"{key}-{fmt}",
                               icon=":material/download:", on_click="ignore")
