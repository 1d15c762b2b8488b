"""``civicradar classify | match-claims | evaluate``: registered by jobs.py through :func:`add_commands`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

from storage.csvsafe import write_csv

from . import Labeller, Labels
from . import evaluate as ev
from .errors import ClassifierError
from .files import load_claims, load_topics, need_columns, read_csv
from .runtime import BATCH_SIZE

OUTPUT_COLUMNS = ("lang", "sentiment", "sentiment_score", "topics", "misinfo_score", "matched_claim_id",
                  "matched_claim_score", "misinfo_reason")
CHUNK = 512
PROGRESS_FROM = 1000  # rows


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    classify = subparsers.add_parser("classify", help="label every post of a CSV file")
    io_options(classify)
    classify.add_argument("--settings", type=Path, help="TOML file with [[classifiers.topics]] tables")
    claim_options(classify, required=False)
    classify.set_defaults(func=run_classify)

    claims = subparsers.add_parser("match-claims", help="rank the claims of a table for each query")
    io_options(claims)
    claim_options(claims, required=True)
    claims.add_argument("--top", type=int, default=5)
    claims.add_argument("--id-column", default="query_id")
    claims.set_defaults(func=run_match_claims)

    evaluate = subparsers.add_parser("evaluate", help="print the metrics of one task on a labelled CSV file")
    evaluate.add_argument("--task", required=True, choices=["sentiment", "misinfo", "flagged", "claims", "topic"],
                          help="flagged: share of posts flagged as likely misinformation (no gold column)")
    evaluate.add_argument("--input", type=Path, required=True)
    evaluate.add_argument("--text-column", default="text")
    evaluate.add_argument("--label-column", help="gold column (default: label, vclaim_ids or target)")
    evaluate.add_argument("--settings", type=Path, help="topics for --task topic (default: TweetEval stance)")
    claim_options(evaluate, required=False)
    evaluate.add_argument("--models-dir", type=Path)
    evaluate.set_defaults(func=run_evaluate)


def train_options(parser: argparse.ArgumentParser) -> None:
    """``civicradar train`` (classifiers/retrain.py)."""
    parser.add_argument("--from-feedback", action="store_true",
                        help="refit the sentiment head on staff corrections plus public train data")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("CIVICRADAR_DATA", "../shared/data")),
                        help="folder with tweeteval_sentiment/train.csv and val.csv (default: ../shared/data)")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, install nothing")


def io_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--models-dir", type=Path, help="model folders (default: classifiers/models)")


def claim_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--claims", type=Path, required=required, help="claims table (CSV)")
    parser.add_argument("--claim-id-column", help="default: claim_id, else the first column")
    parser.add_argument("--claim-text-columns", type=lambda s: s.split(","),
                        help="comma-separated, joined as one text (default: text / claim / title,vclaim,subtitle)")


def claims_of(args: argparse.Namespace) -> list:
    return load_claims(args.claims, args.claim_id_column, args.claim_text_columns) if args.claims else []


def guarded(func):  # type: ignore[no-untyped-def]
    """Turn the package's errors into one readable line and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (ClassifierError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    return run


def row_values(labels: Labels) -> dict[str, object]:
    values = {name: getattr(labels, name) for name in OUTPUT_COLUMNS}
    values["topics"] = json.dumps(labels.topics, sort_keys=True) if labels.topics else ""
    return {k: "" if v is None else v for k, v in values.items()}


@guarded
def run_classify(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    frame = read_csv(args.input)
    need_columns(frame, [args.text_column], args.input)
    labeller = Labeller(load_topics(args.settings), claims_of(args), args.models_dir)
    texts = frame[args.text_column].tolist()
    rows: list[dict[str, object]] = []
    with tqdm(total=len(texts), unit="post", disable=len(texts) < PROGRESS_FROM, file=sys.stderr) as bar:
        for start in range(0, len(texts), CHUNK):
            rows += [row_values(lab) for lab in labeller.label(texts[start : start + CHUNK], args.batch_size)]
            bar.update(min(CHUNK, len(texts) - start))
    added = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS), index=frame.index)
    write_csv(frame.drop(columns=[c for c in OUTPUT_COLUMNS if c in frame.columns]).join(added), args.output)
    print(f"labelled {len(frame)} posts -> {args.output} ({json.dumps(labeller.models)})", file=sys.stderr)
    return 0


@guarded
def run_match_claims(args: argparse.Namespace) -> int:
    frame = read_csv(args.input)
    need_columns(frame, [args.id_column, args.text_column], args.input)
    labeller = Labeller(claims=claims_of(args), models_dir=args.models_dir)
    ranked = ev.rank_claims(labeller, frame[args.text_column].tolist(), args.top)
    out = [(qid, rank, cid, score) for qid, row in zip(frame[args.id_column], ranked, strict=True)
           for rank, (cid, score) in enumerate(row, 1)]
    write_csv(pd.DataFrame(out, columns=["query_id", "rank", "claim_id", "score"]), args.output)
    return 0


@guarded
def run_evaluate(args: argparse.Namespace) -> int:
    frame = read_csv(args.input)
    gold = args.label_column or {"claims": "vclaim_ids", "topic": "target"}.get(args.task, "label")
    if args.task == "flagged":
        frame[gold] = ""
    need_columns(frame, [args.text_column, gold], args.input)
    topics = load_topics(args.settings) if args.settings else list(ev.STANCE_TOPICS)
    labeller = Labeller(topics if args.task == "topic" else (), claims_of(args), args.models_dir)
    if args.task == "claims" and not args.claims:
        raise ClassifierError("--task claims needs --claims")
    task = {"sentiment": ev.sentiment, "misinfo": ev.misinfo, "flagged": ev.flagged, "claims": ev.claims,
            "topic": ev.topics}[args.task]
    metrics = task(labeller, frame[args.text_column].tolist(), frame[gold])
    print(json.dumps({"task": args.task, "input": str(args.input), "models": labeller.models,
                      **{k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m classifiers.cli``) until jobs.py registers the commands."""
    parser = argparse.ArgumentParser(prog="civicradar")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
