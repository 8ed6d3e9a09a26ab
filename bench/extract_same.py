"""Same-output check for extraction speed work: this checkout against another revision.

Every page of every set in ``$BANWAVE_EVALDATA/pages``, every page of the demo
web and every extraction fixture (tests/data/extract) is extracted by the code
of this checkout and by the code of ``--against`` (a git revision, exported
with ``git archive`` into a temporary directory and run in a subprocess), and
the two results must be identical: kind, title, text, date, author, language,
site name, canonical URL, the thread fallback flag, and every post's fields.
Evaldata pages run three ways: as the bench hands them over (decoded, UTF-8
bytes), as a forum spider does (``kind`` forum), and as their original bytes
without headers (the decoding cascade). A change meant only to be faster must
leave this check silent; it prints each page that differs and exits 1 then.

Run:  .venv/bin/python bench/extract_same.py [--against main] [--sets a,b]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRAWLED_AT = "2026-01-01T00:00:00+00:00"  # after every page's date, so relative forms resolve alike
DEMO_PORTS = {"cn-news": 8701, "en-news": 8702, "forum": 8703}
MODES = {"bench": None, "forum": {"kind": "forum"}}


def pages(evaldata: Path, sets: list[str] | None):
    """``(key, body, url, headers, rules)`` of every page to extract, in a fixed order."""
    spec = importlib.util.spec_from_file_location("score_pages", evaldata / "score_pages.py")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    pages_dir = evaldata / "pages"
    names = sets or sorted(d.name for d in pages_dir.iterdir() if any(d.glob("[0-9][0-9][0-9].json")))
    utf8 = {"content-type": "text/html; charset=utf-8"}
    for name in names:
        for page_id, raw, meta in scorer.load_set(str(pages_dir), name, []):
            url = meta.get("url") or "http://evaldata.invalid/"
            body = scorer.decode_html(raw).encode("utf-8")
            for mode, rules in MODES.items():
                yield f"{name}/{page_id}/{mode}", body, url, utf8, rules
            yield f"{name}/{page_id}/raw", raw, url, None, None
    sites = ROOT / "demo" / "sites"
    for site, port in DEMO_PORTS.items():
        routes = json.loads((sites / site / "_routes.json").read_text("utf-8"))
        for path in sorted(p for p in (sites / site).rglob("*") if p.suffix in (".html", ".php")):
            route = "/" + path.relative_to(sites / site).as_posix()
            ctype = (routes.get("routes", {}).get(route, {}).get("content_type")
                     or routes["content_types"].get("html", "text/html"))
            for mode, rules in MODES.items():
                yield f"demo/{site}{route}/{mode}", path.read_bytes(), f"http://127.0.0.1:{port}{route}", \
                    {"content-type": ctype}, rules
    for path in sorted((ROOT / "tests" / "data" / "extract").iterdir()):
        if path.suffix != ".json":
            yield f"fixture/{path.name}", path.read_bytes(), f"http://fixture.test/{path.name}", {}, None


def extract_all(evaldata: Path, sets: list[str] | None) -> dict:
    """Every page's result (or error) by key, with the code importable as ``pipelines`` now."""
    from pipelines.extract import ExtractError, extract_page

    out = {}
    for key, body, url, headers, rules in pages(evaldata, sets):
        try:
            out[key] = extract_page(body, url, headers, rules, crawled_at=CRAWLED_AT)
        except ExtractError as exc:
            out[key] = {"error": str(exc)}
    return json.loads(json.dumps(out, ensure_ascii=False, default=str))  # as the other side's JSON gives it


def extract_revision(revision: str, evaldata: Path, sets: list[str] | None) -> dict:
    """``extract_all`` with the code of ``revision``, run in a subprocess on its exported tree."""
    with tempfile.TemporaryDirectory(prefix="extract-same-") as tmp:
        archive = Path(tmp) / "code.tar"
        subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), revision], check=True)
        code = Path(tmp) / "code"
        with tarfile.open(archive) as tar:
            tar.extractall(code, filter="data")
        output = Path(tmp) / "results.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--dump", str(output), "--code", str(code),
                   "--evaldata", str(evaldata)] + (["--sets", ",".join(sets)] if sets else [])
        subprocess.run(command, check=True, cwd=code)
        return json.loads(output.read_text("utf-8"))


def differences(old: dict, new: dict) -> list[str]:
    """One line per page whose results differ, naming the fields."""
    lines = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if a is None or b is None:
            lines.append(f"{key}: only in {'new' if a is None else 'old'}")
            continue
        fields = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        lines.append(f"{key}: {', '.join(fields)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", default="main", help="git revision whose code gives the reference results")
    parser.add_argument("--sets", default="", help="comma list of evaldata sets (default: all)")
    parser.add_argument("--evaldata", help=argparse.SUPPRESS)  # the subprocess gets the parent's
    parser.add_argument("--dump", help=argparse.SUPPRESS)  # subprocess: write results here
    parser.add_argument("--code", help=argparse.SUPPRESS)  # subprocess: import the code from here
    args = parser.parse_args(argv)
    sets = [s for s in args.sets.split(",") if s] or None
    if args.dump:
        sys.path.insert(0, args.code)
        import pipelines

        assert Path(pipelines.__file__).resolve().is_relative_to(Path(args.code).resolve()), pipelines.__file__
        Path(args.dump).write_text(json.dumps(extract_all(Path(args.evaldata), sets), ensure_ascii=False), "utf-8")
        return 0
    sys.path.insert(0, str(ROOT))
    import config

    evaldata = Path(args.evaldata) if args.evaldata else config.evaldata_dir()
    if not (evaldata / "pages").is_dir():
        parser.error(f"evaldata not found at {evaldata} (BANWAVE_EVALDATA)")
    old = extract_revision(args.against, evaldata, sets)
    new = extract_all(evaldata, sets)
    diff = differences(old, new)
    print(f"{len(new)} extractions compared with {args.against}: {len(diff)} differ")
    for line in diff:
        print("  " + line)
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
