"""Command line: ``python -m nlp tag`` reads JSON Lines on stdin and writes tagged JSON Lines;
``python -m nlp train`` fits the relevance model (nlp/train.py).

Input, one per line: ``{"id": ..., "text": ..., "lang": "zh"|"en" (optional)}``.
Output, one per input line, in order: the record's id plus the Tagger.tag fields, or
``{"id": <id or line number>, "error": "..."}`` for a line that cannot be tagged.
Exit status 0 unless stdin cannot be read (1) or the arguments are wrong (2).
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import sys

from nlp.tagger import DEFAULT_KEYWORDS, Tagger, tag_record

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nlp", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    tag = commands.add_parser("tag", help="tag JSON Lines from stdin to stdout")
    tag.add_argument("--keywords", type=int, default=DEFAULT_KEYWORDS, help="keywords per document (default %(default)s)")
    tag.add_argument("--cache-dir", help="directory for jieba's prefix-dict cache (default: system temp dir)")
    tag.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    commands.add_parser("train", help="fit the relevance model on nlp/data/corpus (see nlp/train.py)", add_help=False)
    return parser


def run_tag(lines, out, tagger: Tagger) -> int:
    """Tag each line of ``lines`` onto ``out``; returns the number of error lines."""
    errors = 0
    for line_number, line in enumerate(lines, 1):
        if not line.strip():  # still answered, so output line N always belongs to input line N
            result = {"id": line_number, "error": "empty line"}
            errors += 1
            out.write(json.dumps(result) + "\n")
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            result = {"id": line_number, "error": f"invalid JSON: {exc}"}
        else:
            try:
                result = tag_record(record, tagger, line_number)
            except Exception as exc:  # one bad document must not stop the stream
                logger.exception("line %s: tagging failed", line_number)
                record_id = record.get("id", line_number) if isinstance(record, dict) else line_number
                result = {"id": record_id, "error": f"tagging failed: {type(exc).__name__}: {exc}".splitlines()[0]}
        if "error" in result:
            errors += 1
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return errors


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["train"]:  # its own options (nlp/train.py); scikit-learn is needed only here
        from nlp.train import main as train

        logging.basicConfig(stream=sys.stderr, level="WARNING", format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger("jieba").setLevel("WARNING")
        return train(argv[1:])
    args = _parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    # jieba logs its dictionary loading at DEBUG through a handler of its own; follow our level instead
    logging.getLogger("jieba").setLevel(args.log_level)
    tagger = Tagger(keywords=args.keywords, cache_dir=args.cache_dir)
    # decode leniently: a line with bad bytes becomes an error line, not a crash
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    try:
        errors = run_tag(stdin, stdout, tagger)
    except OSError as exc:
        logger.error("cannot read stdin: %s", exc)
        return 1
    logger.info("done, %s error lines", errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
