"""Results as downloadable files: CSV, Parquet, XLSX (ids kept as text, times as UTC without a zone)."""

from __future__ import annotations

import functools
import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import streamlit as st

FORMATS = {
    "CSV": ("csv", "text/csv"),
    "Parquet": ("parquet", "application/vnd.apache.parquet"),
    "XLSX": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
XLSX_MAX_ROWS = 1_048_575


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "CSV":
        return frame.to_csv(index=False).encode("utf-8")
    if fmt == "Parquet":
        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
        return sink.getvalue()
    if len(frame) > XLSX_MAX_ROWS:
        raise ValueError(f"XLSX holds at most {XLSX_MAX_ROWS:,} rows; download CSV or Parquet instead")
    sink = io.BytesIO()
    _spreadsheet_safe(frame).to_excel(sink, index=False, engine="openpyxl")
    return sink.getvalue()


def _spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists and structs as text; zone-aware times as naive UTC (Excel has no time zones)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elif series.dtype == object:
            out[column] = series.map(lambda v: v if v is None or isinstance(v, str | int | float) else str(
                v.tolist() if hasattr(v, "tolist") else v))
    return out


def download_buttons(frame: pd.DataFrame, stem: str, key: str) -> None:
    """One button per format; a file is built only when its button is clicked."""
    columns = st.columns(len(FORMATS))
    for column, (fmt, (ext, mime)) in zip(columns, FORMATS.items(), strict=True):
        if fmt == "XLSX" and len(frame) > XLSX_MAX_ROWS:
            column.caption(f"XLSX holds at most {XLSX_MAX_ROWS:,} rows")
            continue
        column.download_button(f"Download {fmt}", functools.partial(to_bytes, frame, fmt), file_name=f"{stem}.{ext}",
                               mime=mime, key=f"{key}-{fmt}", icon=":material/download:", on_click="ignore")
