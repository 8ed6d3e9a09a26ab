"""The bundled offline demo web: its sites (``demo/sites``), their gold documents, and the server (``demo.web``)."""
from __future__ import annotations

import json
from pathlib import Path

SITES_DIR = Path(__file__).resolve().parent / "sites"
GOLD_PATH = SITES_DIR / "gold.jsonl"   # one expected DOCUMENT per line, written by demo/sites/build.py


def gold() -> list[dict]:
    """The demo web's gold documents (what a full crawl of it must index)."""
    return [json.loads(line) for line in GOLD_PATH.read_text("utf-8").splitlines()]
