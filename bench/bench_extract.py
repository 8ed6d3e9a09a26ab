"""Extraction quality and throughput: real pages first, then the demo-web fixtures.

Real pages (the figures that count): every set in ``$BANWAVE_EVALDATA/pages``
(default ``<repo>/../shared/evaldata``; see its README), each page decoded once
and given to the pipeline (``extract_page``; forum pages scored as their posts
joined with newlines), bare ``trafilatura.extract`` and readability-lxml, in
one run. Per set: mean token F1 (the evaldata scorer's tokens and F1), the
share of pages where the pipeline loses to trafilatura by more than 0.1,
publication date (exact day) and author accuracy on pages with a labelled
one, and pages/s of the pipeline and of bare trafilatura. The systems run
interleaved, page by page in rotating order, so machine load falls on both;
pages/s are given per wall-clock second and per CPU second of this process
(other processes on a shared machine then do not enter the ratio). Forum
sets also get an untimed "thread" column: the pipeline's F1 when the page
comes as a forum spider hands it over (``page_kind`` forum: the posts need
not pass the content test, and a page whose posts nothing finds becomes one
document of the whole thread).
``--speed-rounds N`` adds N timing-only passes (pipeline and bare trafilatura).

Demo web (fixtures, not quality: the pipeline was written against them):
body-text token F1 of every gold document (demo/sites/gold.jsonl)
for bare trafilatura, the pipeline without its fallback extractor, and the
full pipeline. Pages are read from demo/sites/ with the HTTP headers the
demo server would send (demo/sites/<site>/_routes.json), so header traps
such as a wrong charset count. Tokens: each CJK character is one token, other
text splits into lower-cased word/number runs; F1 over token multisets.

Trafilatura alone cannot split a thread into posts, so for posts it is scored
per thread page (all gold posts of the page joined vs. its text), and the
pipeline is given both figures: per post, and per page the same way.

Throughput: fetch every HTML page of the demo web over HTTP from a local
DemoWeb, then extract the fetched bytes with the pipeline and with bare
``trafilatura.extract``; both figures come from the same run and bytes.

Run:  .venv/bin/python bench/bench_extract.py [--sets a,b] [--no-readability] [--no-demo]
                                              [--speed-rounds 0] [--rounds 3] [--port 18701] [--no-throughput]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from urllib.error import HTTPError

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import config  # noqa: E402
import demo
from demo.web import DemoWeb  # noqa: E402
from pipelines.extract import ExtractConfig, ExtractError, extract_page  # noqa: E402
from pipelines.extract.article import ArticleConfig  # noqa: E402
from pipelines.extract.dates import normalise_date  # noqa: E402

SITES_DIR = demo.SITES_DIR
SITE_BY_PORT = {8701: "cn-news", 8702: "en-news", 8703: "forum"}
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CRAWLED_AT = "2022-03-01T00:00:00+00:00"  # after every demo date, so relative forms resolve sanely
REAL_CRAWLED_AT = "2026-01-01T00:00:00+00:00"  # after every evaldata page was saved
LOSS_MARGIN = 0.1  # a page "lost" to trafilatura: pipeline F1 below trafilatura's by more than this


def evaldata_dir() -> Path:
    """Where the real third-party pages are (config.evaldata_dir)."""
    return config.evaldata_dir()


def load_scorer(root: Path):
    """The evaldata scorer module (tokens, score, decode_html, load_set), as shipped beside the pages."""
    spec = importlib.util.spec_from_file_location("score_pages", root / "score_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evaluate_real(root: Path | None = None, sets: list[str] | None = None, readability: bool = True) -> dict:
    """Per set: F1 lists of pipeline/trafilatura(/readability), seconds, date and author hits."""
    root = root or evaldata_dir()
    scorer = load_scorer(root)
    pages_dir = root / "pages"
    sets = sets or sorted(d.name for d in pages_dir.iterdir() if any(d.glob("[0-9][0-9][0-9].json")))
    systems = {"pipeline": _pipeline_text, "trafilatura": lambda page: trafilatura.extract(page["html"])}
    if readability:
        systems["readability"] = _readability_text(scorer)
    warm = scorer.load_set(str(pages_dir), sets[0], [])[0]
    for run in systems.values():  # untimed warm-up: imports, lazy tables
        run(_page(scorer, warm[1], warm[2]))
    out = {}
    turn = 0
    for name in sets:
        row = {"f1": defaultdict(list), "seconds": Counter(), "cpu": Counter(), "pages": [], "date": [0, 0],
               "author": [0, 0]}
        for page_id, raw, meta in scorer.load_set(str(pages_dir), name, []):
            page = _page(scorer, raw, meta)
            texts = {}
            # interleaved: every page goes through each system in turn, the order
            # rotating page by page, so machine load falls on all of them alike
            order = list(systems)
            turn += 1
            for system in order[turn % len(order):] + order[:turn % len(order)]:
                start, cpu = time.perf_counter(), time.process_time()
                texts[system] = systems[system](page)
                row["seconds"][system] += time.perf_counter() - start
                row["cpu"][system] += time.process_time() - cpu
            if "forum" in name:  # untimed: the thread as a forum spider hands it over (page_kind forum)
                texts["as_thread"] = _pipeline_text(dict(page), {"kind": "forum"})
            for system in texts:
                scored = scorer.score(meta["body"], texts[system] or "")
                if scored is not None:
                    row["f1"][system].append(scored["f1"])
            row["pages"].append(page_id)
            result = page.get("result") or {}
            if meta.get("date"):
                row["date"][1] += 1
                row["date"][0] += _same_day(result.get("published"), meta["date"])
            if meta.get("author"):
                row["author"][1] += 1
                row["author"][0] += _same_author(result.get("author"), meta["author"])
        out[name] = row
    return out


def speed_rounds(rounds: int, root: Path | None = None, sets: list[str] | None = None) -> list[float]:
    """Throughput ratio (pipeline pages per CPU second over bare trafilatura's) of each of
    ``rounds`` extra passes over all pages, the two systems interleaved page by page (order
    alternating)."""
    root = root or evaldata_dir()
    scorer = load_scorer(root)
    pages_dir = root / "pages"
    sets = sets or sorted(d.name for d in pages_dir.iterdir() if any(d.glob("[0-9][0-9][0-9].json")))
    pages = [_page(scorer, raw, meta) for name in sets for _, raw, meta in scorer.load_set(str(pages_dir), name, [])]
    systems = [_pipeline_text, lambda page: trafilatura.extract(page["html"])]
    ratios = []
    for _ in range(rounds):
        seconds = [0.0, 0.0]
        for index, page in enumerate(pages):
            for which in (index % 2, 1 - index % 2):
                start = time.process_time()
                systems[which](page)
                seconds[which] += time.process_time() - start
        ratios.append(seconds[1] / seconds[0])
    return ratios


def _page(scorer, raw: bytes, meta: dict) -> dict:
    """One page as every system gets it: the evaldata decoding for the references, its
    UTF-8 bytes for the pipeline (which decodes what it fetches), made before any timing."""
    html = scorer.decode_html(raw)
    return {"html": html, "body": html.encode("utf-8"), "url": meta.get("url")}


def _pipeline_text(page: dict, rules: dict | None = None) -> str:
    try:
        result = extract_page(page["body"], page["url"] or "http://evaldata.invalid/",
                              {"content-type": "text/html; charset=utf-8"}, rules, crawled_at=REAL_CRAWLED_AT)
    except ExtractError:
        return ""
    page["result"] = result
    return result["text"]  # forum pages: the posts' texts joined with newlines


def _readability_text(scorer):
    run = scorer.BUILTINS["readability"]()
    return lambda page: run(page["html"], page["url"])


def _same_day(published: str | None, label: str) -> bool:
    """The labelled day ("2022-02-13 20:04", "2021-1-29") equals the extracted one; a label
    of month precision ("1998-3": a magazine issue) is compared at that precision."""
    match = re.match(r"(\d{4})\D(\d{1,2})(?:\D(\d{1,2}))?", label.strip())
    if not published or not match:
        return False
    if match[3] is None:
        return published[:7] == "%s-%02d" % (match[1], int(match[2]))
    return published[:10] == "%s-%02d-%02d" % (match[1], int(match[2]), int(match[3]))


def _same_author(found: str | None, label: str) -> bool:
    """The extracted author names the labelled one (several names may be labelled, space-separated)."""
    if not found:
        return False
    found = "".join(found.split())
    return any(name in found for name in label.split()) or "".join(label.split()) in found


def real_table(results: dict) -> list[dict]:
    """One summary row per set (what the gate test asserts and the bench prints)."""
    rows = []
    for name, row in results.items():
        pipe, bare = row["f1"]["pipeline"], row["f1"]["trafilatura"]
        rows.append({
            "set": name, "pages": len(pipe), "pipeline": statistics.mean(pipe), "trafilatura": statistics.mean(bare),
            "readability": statistics.mean(row["f1"]["readability"]) if row["f1"].get("readability") else None,
            "as_thread": statistics.mean(row["f1"]["as_thread"]) if row["f1"].get("as_thread") else None,
            "lost": sum(p < b - LOSS_MARGIN for p, b in zip(pipe, bare)) / len(pipe),
            "date": row["date"], "author": row["author"],
            "pipeline_pps": len(row["pages"]) / row["seconds"]["pipeline"],
            "trafilatura_pps": len(row["pages"]) / row["seconds"]["trafilatura"],
            "pipeline_cpu": row["cpu"]["pipeline"], "trafilatura_cpu": row["cpu"]["trafilatura"],
            "halves": [statistics.mean(pipe[i::2]) for i in (0, 1)],
        })
    return rows


def print_real(rows: list[dict]) -> None:
    print(f"real pages ({evaldata_dir()}): mean token F1 per set, forum pages as posts joined")
    print(f"  {'set':<22}{'pages':>6}{'pipeline':>10}{'trafil.':>9}{'readab.':>9}{'lost>0.1':>9}"
          f"{'halves':>14}{'date':>9}{'author':>9}{'pipe p/s':>10}{'traf p/s':>10}{'thread':>8}")
    for r in rows:
        ratio = lambda hit: f"{hit[0]}/{hit[1]}" if hit[1] else "-"
        readab = f"{r['readability']:.3f}" if r["readability"] is not None else "n/a"
        print(f"  {r['set']:<22}{r['pages']:>6}{r['pipeline']:>10.3f}{r['trafilatura']:>9.3f}{readab:>9}"
              f"{r['lost']:>9.1%}{r['halves'][0]:>8.3f}/{r['halves'][1]:.3f}{ratio(r['date']):>9}"
              f"{ratio(r['author']):>9}{r['pipeline_pps']:>10.1f}{r['trafilatura_pps']:>10.1f}"
              f"{'-' if r['as_thread'] is None else format(r['as_thread'], '.3f'):>8}")
    pages = sum(r["pages"] for r in rows)
    pipe_s = sum(r["pages"] / r["pipeline_pps"] for r in rows)
    bare_s = sum(r["pages"] / r["trafilatura_pps"] for r in rows)
    pipe_cpu = sum(r["pipeline_cpu"] for r in rows)
    bare_cpu = sum(r["trafilatura_cpu"] for r in rows)
    print(f"  throughput, all {pages} pages: pipeline {pages / pipe_s:.1f} pages/s, bare trafilatura"
          f" {pages / bare_s:.1f} pages/s, ratio {bare_s / pipe_s:.2f}x wall-clock;"
          f" per CPU second {pages / pipe_cpu:.1f} vs {pages / bare_cpu:.1f}, ratio {bare_cpu / pipe_cpu:.2f}x")


def tokens(text: str | None) -> Counter:
    out = []
    for token in _TOKEN.findall(text or ""):
        if _CJK.fullmatch(token[0]) or not _CJK.search(token):
            out.append(token.lower())
        else:  # a CJK run glued to Latin by \w: split per character
            out.extend(t.lower() for t in _TOKEN.findall(re.sub(f"({_CJK.pattern})", r" \1 ", token)))
    return Counter(out)


def f1(predicted: str | None, gold: str | None) -> float:
    p, g = tokens(predicted), tokens(gold)
    if not p and not g:
        return 1.0
    overlap = sum((p & g).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def load_gold() -> list[dict]:
    with open(SITES_DIR / "gold.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def page_url(url: str) -> str:
    return url.split("#")[0]


def page_file(url: str) -> tuple[Path, dict]:
    """File and server headers for a demo URL, as demo/web.py would serve it."""
    match = re.match(r"https?://[^/:]+:(\d+)(/[^?#]*)", url)
    site, path = SITE_BY_PORT[int(match.group(1))], match.group(2)
    routes = json.loads((SITES_DIR / site / "_routes.json").read_text("utf-8"))
    ctype = (routes.get("routes", {}).get(path, {}).get("content_type")
             or routes["content_types"].get("html", "text/html"))
    return SITES_DIR / site / path.lstrip("/"), {"content-type": ctype}


def run_pipeline(body: bytes, url: str, headers: dict, config: ExtractConfig) -> dict | None:
    try:
        return extract_page(body, url, headers, crawled_at=CRAWLED_AT, config=config)
    except ExtractError:
        return None


def evaluate(gold: list[dict]) -> dict:
    """Mean F1 per system and document type, plus metadata accuracy of the full pipeline."""
    pages = defaultdict(list)
    for row in gold:
        pages[page_url(row["url"])].append(row)
    systems = {"pipeline": ExtractConfig(), "no_fallback": ExtractConfig(article=ArticleConfig(fallback=False))}
    scores = defaultdict(list)
    meta = Counter()
    worst = []
    for url, rows in pages.items():
        path, headers = page_file(url)
        body = path.read_bytes()
        bare = trafilatura.extract(body, url=url, include_comments=False)
        results = {name: run_pipeline(body, url, headers, config) for name, config in systems.items()}
        if rows[0]["doc_type"] == "article":
            row = rows[0]
            scores["trafilatura", "article"].append(f1(bare, row["text"]))
            for name, result in results.items():
                scores[name, "article"].append(f1(result and result["text"], row["text"]))
            full = results["pipeline"] or {}
            _metadata(meta, full, row)
            worst.append((scores["pipeline", "article"][-1], url))
            continue
        joined_gold = "\n".join(r["text"] for r in rows)
        scores["trafilatura", "thread page"].append(f1(bare, joined_gold))
        for name, result in results.items():
            posts = {p["post_id"]: p for p in (result or {}).get("posts", [])}
            scores[name, "thread page"].append(f1("\n".join(p["text"] for p in posts.values()), joined_gold))
            for row in rows:
                post = posts.get(row["post_id"])
                scores[name, "post"].append(f1(post and post["text"], row["text"]))
                if name == "pipeline":
                    _metadata(meta, post or {}, row)
                    worst.append((scores[name, "post"][-1], row["url"]))
    return {"scores": scores, "meta": meta, "worst": sorted(worst)[:5]}


def _metadata(meta: Counter, got: dict, row: dict) -> None:
    meta["n"] += 1
    meta["author"] += got.get("author") == row["author"]
    want = row["published"]
    if row.get("published_relative"):  # "昨天 14:05": the gold leaves the instant to the crawl time
        want = normalise_date(row["published_relative"], datetime.fromisoformat(CRAWLED_AT))
    meta["published"] += _same_instant(got.get("published"), want)
    if row["doc_type"] == "post":
        meta["posts"] += 1
        meta["quote"] += f1(got.get("quote"), row["quote"]) >= 0.95
        meta["reply_to"] += got.get("reply_to") == row["reply_to"]
        meta["floor"] += got.get("floor") == row["floor"]
    else:
        meta["articles"] += 1
        meta["title"] += got.get("title") == row["title"]


def _same_instant(got: str | None, want: str | None) -> bool:
    if not got or not want:
        return got == want
    if len(want) == 10:  # gold gives date-only values without a zone: compare the day
        return got[:10] == want
    return datetime.fromisoformat(got) == datetime.fromisoformat(want)


def evaluate_fixtures() -> dict:
    """Same F1 on the hand-written fixtures (tests/data/extract), which include
    layouts the demo web lacks (table-layout portal, Big5, phpBB)."""
    data = ROOT / "tests" / "data" / "extract"
    expected = json.loads((data / "expected.json").read_text("utf-8"))
    scores = defaultdict(list)
    for name, want in expected.items():
        body, url = (data / name).read_bytes(), f"http://fixture.test/{name}"
        kind = "article" if want["kind"] == "article" else "post"
        bare = trafilatura.extract(body, url=url, include_comments=False)
        configs = {"pipeline": ExtractConfig(), "no_fallback": ExtractConfig(article=ArticleConfig(fallback=False))}
        if kind == "article":
            scores["trafilatura", kind].append(f1(bare, want["text"]))
        else:
            scores["trafilatura", "thread page"].append(f1(bare, "\n".join(p["text"] for p in want["posts"])))
        for system, extract_config in configs.items():
            result = run_pipeline(body, url, {}, extract_config) or {}
            if kind == "article":
                scores[system, kind].append(f1(result.get("text"), want["text"]))
                continue
            posts = {p["post_id"]: p for p in result.get("posts", [])}
            scores[system, "thread page"].append(f1("\n".join(p["text"] for p in posts.values()),
                                                    "\n".join(p["text"] for p in want["posts"])))
            for post in want["posts"]:
                scores[system, kind].append(f1(posts.get(post["post_id"], {}).get("text"), post["text"]))
    return scores


def print_scores(title: str, scores: dict) -> None:
    print(title)
    print(f"  {'system':<14}{'articles':>10}{'posts':>10}{'thread pages':>14}")
    for name in ("trafilatura", "no_fallback", "pipeline"):
        cells = [scores.get((name, kind)) for kind in ("article", "post", "thread page")]
        print(f"  {name:<14}" + "".join(f"{statistics.mean(c):>{w}.3f}" if c else f"{'n/a':>{w}}"
                                        for c, w in zip(cells, (10, 10, 14))))


def throughput(rounds: int, base_port: int) -> dict:
    """Pages/s for fetch+pipeline and fetch+bare trafilatura over the same fetched bytes."""
    with DemoWeb(base_port=base_port) as web:
        urls = []
        for site in ("cn-news", "en-news", "forum"):
            routes = json.loads((SITES_DIR / site / "_routes.json").read_text("utf-8"))["routes"]
            paths = sorted("/" + p.relative_to(SITES_DIR / site).as_posix() for p in (SITES_DIR / site).rglob("*")
                           if p.suffix in (".html", ".php"))
            # delays, redirect loops and error statuses test the crawler, not extraction
            urls += [web.base_url(site) + path for path in paths
                     if not {"delay", "redirect", "status"} & set(routes.get(path, {}))]
        start = time.perf_counter()
        fetched = [_fetch(url) for url in urls]
        fetch_seconds = time.perf_counter() - start
    fetched = [f for f in fetched if f is not None]
    pipe, bare = defaultdict(list), defaultdict(list)  # seconds per round, by page kind
    for _ in range(rounds):  # alternate so both see the same machine state
        pipe_round, bare_round = Counter(), Counter()
        for url, body, headers in fetched:
            start = time.perf_counter()
            result = run_pipeline(body, url, headers, ExtractConfig())
            middle = time.perf_counter()
            trafilatura.extract(body, url=url)
            kind = result["kind"] if result else "error"
            pipe_round[kind] += middle - start
            bare_round[kind] += time.perf_counter() - middle
        for kind in pipe_round:
            pipe[kind].append(pipe_round[kind])
            bare[kind].append(bare_round[kind])
    by_kind = {kind: (statistics.median(pipe[kind]), statistics.median(bare[kind])) for kind in pipe}
    return {"pages": len(fetched), "bytes": sum(len(b) for _, b, _ in fetched), "fetch_s": fetch_seconds,
            "pipeline_s": sum(p for p, _ in by_kind.values()), "bare_s": sum(b for _, b in by_kind.values()),
            "by_kind": by_kind}


def _fetch(url: str):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return url, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except HTTPError:
        return None  # e.g. the 429-then-OK page: the crawler retries, the bench does not


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="", help="comma list of evaldata sets (default: all)")
    parser.add_argument("--no-readability", action="store_true", help="skip the readability-lxml column")
    parser.add_argument("--no-demo", action="store_true", help="real pages only, no demo-web fixtures")
    parser.add_argument("--speed-rounds", type=int, default=0,
                        help="extra timing-only passes over the real pages (pipeline vs bare trafilatura)")
    parser.add_argument("--rounds", type=int, default=3, help="extraction rounds for demo throughput (median)")
    parser.add_argument("--no-throughput", action="store_true", help="no demo-web throughput (no demo server)")
    parser.add_argument("--port", type=int, default=18701, help="demo web base port (uses 3 ports)")
    args = parser.parse_args(argv)
    print_real(real_table(evaluate_real(sets=[s for s in args.sets.split(",") if s] or None,
                                        readability=not args.no_readability)))
    if args.speed_rounds:
        ratios = speed_rounds(args.speed_rounds, sets=[s for s in args.sets.split(",") if s] or None)
        print(f"  throughput ratio per CPU second in {len(ratios)} timing-only passes: "
              + ", ".join(f"{r:.2f}x" for r in ratios) + f" (median {statistics.median(ratios):.2f}x)")
    if args.no_demo:
        return 0
    print()
    print("FIXTURES (the pipeline was written against these pages; not a quality figure)")
    result = evaluate(load_gold())
    print_scores("body-text token F1, demo web gold (mean per document)", result["scores"])
    print_scores("body-text token F1, extraction fixtures", evaluate_fixtures())
    meta = result["meta"]
    print(f"pipeline metadata: title {meta['title']}/{meta['articles']} articles, author {meta['author']}/{meta['n']},"
          f" published {meta['published']}/{meta['n']}; posts: quote {meta['quote']}, reply_to {meta['reply_to']},"
          f" floor {meta['floor']} of {meta['posts']}")
    print("lowest pipeline F1:", ", ".join(f"{score:.2f} {url}" for score, url in result["worst"]))
    if not args.no_throughput:
        t = throughput(args.rounds, args.port)
        crawl_pipe, crawl_bare = t["fetch_s"] + t["pipeline_s"], t["fetch_s"] + t["bare_s"]
        print(f"demo-web throughput over {t['pages']} pages ({t['bytes'] / 1e6:.1f} MB), fetch {t['fetch_s']:.2f}s:")
        print(f"  crawl+pipeline            {t['pages'] / crawl_pipe:7.1f} pages/s"
              f"  (extract only {t['pages'] / t['pipeline_s']:.1f} pages/s)")
        print(f"  crawl+bare trafilatura    {t['pages'] / crawl_bare:7.1f} pages/s"
              f"  (extract only {t['pages'] / t['bare_s']:.1f} pages/s)")
        print(f"  cost ratio pipeline/bare: {crawl_pipe / crawl_bare:.2f}x crawl+extract,"
              f" {t['pipeline_s'] / t['bare_s']:.2f}x extraction only")
        print("  extraction cost ratio by page kind: " + ", ".join(
            f"{kind} {p / b:.2f}x" for kind, (p, b) in sorted(t["by_kind"].items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
