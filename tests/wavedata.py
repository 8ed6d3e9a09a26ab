"""Documents for the waves tests, built in the test with the fields the waves read (the shared schema),
and indexed into a test prefix through the real templates."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from elasticsearch.helpers import bulk

import config
from pipelines.elastic import setup_indices
from waves.config import WavesConfig

CST = ZoneInfo("Asia/Shanghai")


def doc(day: date, n: int, *, relevant: bool = True, kind: str = "forum", sellers=(), platforms=("Amazon",),
        context_sellers=(), thread: str | None = None, story: str | None = None, figures=(), keywords=(),
        hour: int = 10, title: str | None = None) -> dict:
    """One document on ``day`` (China time, ``hour``:mm), the ``n``-th of its day."""
    moment = datetime.combine(day, time(hour, n % 60), CST)
    url = f"http://test.example/{kind}/{day.isoformat()}/{n}-{hashlib.sha1(repr(sellers).encode()).hexdigest()[:6]}"
    loss = max((f["value_cny"] for f in figures if f.get("role") in ("loss", "frozen", "fine")), default=None)
    return {
        "id": hashlib.sha1(url.encode()).hexdigest(), "url": url, "title": title or f"{kind} {day} #{n}",
        "source": f"test-{kind}", "source_kind": kind, "doc_type": "post" if kind == "forum" else "article",
        "relevant": relevant, "relevance": 0.9 if relevant else 0.1,
        "published": moment.isoformat(), "published_estimated": False, "timeline_at": moment.isoformat(),
        "crawled_at": moment.isoformat(), "thread_id": thread if kind == "forum" else None,
        "story_id": story or hashlib.sha1(url.encode()).hexdigest()[:16],
        "sellers": list(sellers), "platforms": list(platforms), "context_sellers": list(context_sellers),
        "figures": list(figures), "loss_cny": loss, "keywords": list(keywords) or ["封店"],
    }


def history(start: date, counts: list[int], **fields) -> list[dict]:
    """``counts[i]`` documents on day ``start + i``."""
    return [doc(start + timedelta(days=i), n, **fields) for i, count in enumerate(counts) for n in range(count)]


def index(client, env, docs: list[dict]) -> None:
    setup_indices(client, env.index_prefix)
    bulk(client, ({"_index": env.docs_alias, "_id": d["id"], "_source": d} for d in docs), refresh=True)


def quiet(days: int, seed: int = 0) -> list[int]:
    """A quiet relevant background: about one document every four days, never two on a day."""
    return [1 if (i * 7 + seed) % 4 == 0 else 0 for i in range(days)]


def noon(day: date) -> datetime:
    return datetime.combine(day, time(23, 0), CST).astimezone(timezone.utc)


def waves_config(overrides: dict | None = None) -> WavesConfig:
    """The WAVES_*/ALERTS_* settings built the project's way (config.crawl_settings), overrides on top."""
    return WavesConfig.from_settings(config.crawl_settings(config.load({}, env_file="/nonexistent/.env"),
                                                           overrides or {}))
