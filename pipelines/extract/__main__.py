"""JSON Lines interface: ``python -m pipelines.extract < pages.jsonl > extracted.jsonl``.

Each input line is ``{"id", "url", "path"[, "headers"][, "crawled_at"]}``; each
output line, in input order, is ``{"id", "kind", "title", "text", "published",
"author", "lang", "posts"}`` or ``{"id", "error"}`` for a page that cannot be
read. Relative dates ("3小时前") count back from ``crawled_at`` if given, else
from the file's modification time (when the page was saved). ``--log-level``
(default WARNING) sets what goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import logging
import sys
from datetime import datetime, timezone

from pipelines.extract.page import ExtractError, extract_page

logger = logging.getLogger("pipelines.extract")

_FIELDS = ("kind", "title", "text", "published", "author", "lang")
_POST_FIELDS = ("post_id", "author", "published", "text", "quote")


def process_line(line: str) -> dict:
    """One output record for one input line; never raises for bad input."""
    try:
        request = json.loads(line)
        page_id, url, path = request.get("id"), request["url"], request["path"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return {"id": None, "error": f"bad_input: {exc}"}
    try:
        with open(path, "rb") as handle:
            body = handle.read()
        crawled_at = request.get("crawled_at") or datetime.fromtimestamp(os.path.getmtime(path), timezone.utc)
        result = extract_page(body, url, request.get("headers"), crawled_at=crawled_at)
    except OSError as exc:
        return {"id": page_id, "error": f"io_error: {exc}"}
    except ExtractError as exc:
        return {"id": page_id, "error": str(exc)}
    except Exception as exc:  # one bad page must not stop the batch
        logger.exception("extraction failed for %s", url)
        return {"id": page_id, "error": f"internal_error: {exc!r}"}
    output = {"id": page_id, **{key: result[key] for key in _FIELDS}}
    output["posts"] = [{key: post[key] for key in _POST_FIELDS} for post in result["posts"]]
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.extract", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        type=str.upper, help="what goes to stderr (default WARNING)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(process_line(line), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
