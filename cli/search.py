"""``banwave search QUERY``: the top documents for a query, from the terminal.

Each hit shows date, source, title, a snippet with the matched words marked and
the entities the NLP stage found. One hit per story by default (syndicated and
reposted copies share a ``story_id``), with the number of copies that match;
``--no-collapse`` lists every copy. ``--json`` prints one JSON object per hit
instead (for scripts). See cli/query.py for how the query is built.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date, datetime

from elasticsearch import ApiError, NotFoundError, TransportError
from rich.console import Console
from rich.text import Text

from cli.query import KINDS, MARK_END, MARK_START, STORY_FIELD, Filters, QueryParser, search_body
from pipelines.elastic import describe_error, make_client

logger = logging.getLogger(__name__)

ENTITY_LINE = (("sellers", "sellers"), ("associations", "associations"), ("governments", "government"),
               ("platforms", "platforms"), ("media", "media"))


def iso_date(value: str) -> str:
    """argparse type for --since: an ISO date or date-time, returned unchanged."""
    try:
        (date if len(value) == 10 else datetime).fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2021-06-01") from None
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser("search", help="search the indexed documents from the terminal")
    parser.add_argument("query", metavar="QUERY", help="words in Chinese or English; entity names match their aliases")
    parser.add_argument("--seller", action="append", default=[], metavar="NAME",
                        help="only documents whose own text names this seller (any alias: Aukey, 傲基; a forum "
                             "reply does not count its thread title's sellers); repeatable")
    parser.add_argument("--since", type=iso_date, metavar="DATE", help="only documents published on or after DATE")
    parser.add_argument("--kind", choices=KINDS, help="only news articles or only forum posts")
    parser.add_argument("--relevant", action="store_true", help="only documents the NLP stage judged relevant")
    parser.add_argument("-n", "--size", type=int, default=10, metavar="N", help="number of hits (default 10)")
    parser.add_argument("--collapse", action=argparse.BooleanOptionalAction, default=True,
                        help="one hit per story (syndicated and reposted copies), with its number of copies "
                             "(default: on)")
    parser.add_argument("--json", action="store_true", help="one JSON object per hit instead of text")
    parser.set_defaults(func=run)


class SearchError(RuntimeError):
    """The search could not run; the message is one line."""


def resolve_sellers(parser: QueryParser, names: list[str]) -> tuple[str, ...]:
    """Canonical seller names for ``--seller`` values; unknown names are used as given."""
    resolved = []
    for name in names:
        entity = parser.resolve(name, "seller")
        if entity is None:
            logger.info("seller %r is not in the alias table; matching it as written", name)
        resolved.append(entity.name if entity else name.strip())
    return tuple(resolved)


def search(client, alias: str, query: str, filters: Filters = Filters(), size: int = 10,
           parser: QueryParser | None = None, collapse: bool = False) -> dict:
    """Run a search; returns ``{"total", "stories", "entities", "hits"}`` with hits as flat dicts.
    ``collapse``: one hit per story, each with ``copies`` (documents of its story that match);
    ``stories`` is the number of matching stories (None without collapse)."""
    units = (parser or QueryParser()).parse(query) if query.strip() else []
    entities = [(u.entity.type, u.entity.name) for u in units if u.entity]
    logger.debug("query %r: units %s", query, units)
    response = _run(client, alias, search_body(query, units, filters, size, collapse))
    if collapse and any(hit["_source"].get(STORY_FIELD) is None for hit in response["hits"]["hits"]):
        # Elasticsearch collapses every document without a story id into one hit
        logger.warning("some documents have no %s (indexed with dedupe off): showing every copy", STORY_FIELD)
        collapse = False
        response = _run(client, alias, search_body(query, units, filters, size, collapse))
    hits = []
    for hit in response["hits"]["hits"]:
        source, marked = hit["_source"], hit.get("highlight", {})
        fragments = marked.get("text") or marked.get("text.en") or [""]
        # the English-analysed fragment wins when it marks words and the CJK one does not
        if MARK_START not in fragments[0] and MARK_START in (marked.get("text.en") or [""])[0]:
            fragments = marked["text.en"]
        copies = hit.get("inner_hits", {}).get("copies", {}).get("hits", {}).get("total", {}).get("value")
        hits.append({"id": hit["_id"], "score": hit["_score"], **source,
                     "title_marked": (marked.get("title") or [source.get("title") or ""])[0],
                     "snippet": fragments[0].replace("\n", " "), **({"copies": copies} if collapse else {})})
    stories = response["aggregations"]["stories"]["value"] if collapse else None
    return {"total": response["hits"]["total"]["value"], "stories": stories, "entities": entities, "hits": hits}


def _run(client, alias: str, body: dict) -> dict:
    try:
        return client.search(index=alias, **body)
    except NotFoundError:
        raise SearchError(f"{alias} does not exist: run `banwave es setup` and a crawl first") from None
    except (ApiError, TransportError) as exc:
        raise SearchError(f"searching {alias}: {describe_error(exc)}") from exc


def marked_text(value: str, style: str, plain: bool) -> Text:
    """Text with the highlighter's marks shown in ``style`` (or as «…» when not a terminal)."""
    text = Text()
    for i, part in enumerate(value.replace(MARK_END, MARK_START).split(MARK_START)):
        if i % 2 and plain:
            text.append(f"«{part}»")
        else:
            text.append(part, style=style if i % 2 else None)
    return text


def print_hits(result: dict, query: str, console: Console) -> None:
    plain = not console.is_terminal
    shown = len(result["hits"])
    stories = result.get("stories")
    counted = result["total"] if stories is None else stories
    header = (f'{result["total"]} documents' + ("" if stories is None else f" in {stories} stories")
              + f' match "{query}"' + (f" (top {shown})" if shown < counted else ""))
    if result["entities"]:
        header += "; names: " + ", ".join(f"{name} ({etype})" for etype, name in result["entities"])
    console.print(header, highlight=False)
    for rank, hit in enumerate(result["hits"], 1):
        console.print()
        line = Text(f"{rank:2}. {(hit.get('published') or '')[:10] or 'undated':10}  ")
        source, kind = hit.get("source") or "?", hit.get("source_kind") or hit.get("doc_type") or "?"
        line.append(f"{source if source == kind else f'{source} ({kind})'}  ", style="cyan")
        line.append_text(marked_text(hit.get("title_marked") or "(untitled)", "bold yellow", plain))
        if (hit.get("copies") or 0) > 1:
            line.append(f"  [{hit['copies']} copies]", style="magenta")
        console.print(line)
        if hit["snippet"]:
            console.print(Text("    ").append_text(marked_text(hit["snippet"], "bold yellow", plain)))
        names = [f"{label}: {', '.join(hit[key])}" for key, label in ENTITY_LINE if hit.get(key)]
        if names:
            console.print(Text("    " + " | ".join(names), style="green"))
        console.print(Text(f"    {hit.get('url', '')}", style="dim"))


def run(args, env) -> int:
    client = make_client(env)
    parser = QueryParser()
    filters = Filters(sellers=resolve_sellers(parser, args.seller), since=args.since, kind=args.kind,
                      relevant_only=args.relevant)
    try:
        result = search(client, env.docs_alias, args.query, filters, max(1, args.size), parser, args.collapse)
    except SearchError as exc:
        print(f"banwave: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if args.json:
        for hit in result["hits"]:
            print(json.dumps(hit, ensure_ascii=False))
    else:
        print_hits(result, args.query, Console(highlight=False, soft_wrap=True))
    return 0
