"""`banwave report` on the crawled demo web (conftest's demo_index), and its HTML page in headless Chromium."""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cli.main import main
from cli.search_quality import url_key
from cli.report import format_cny, gather, print_report
from cli.report_html import FORUM_COLOUR, NEWS_COLOUR, render

CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium"


@pytest.fixture(scope="module")
def index(demo_search_index):
    return demo_search_index


@pytest.fixture(scope="module")
def report(index):
    client, alias, _ = index
    return {**gather(client, alias), "generated": "2026-01-01"}


def test_counts_follow_the_documents(index, report):
    _, _, documents = index
    relevant = [d for d in documents if d["relevant"]]
    assert report["documents"] == len(relevant)
    assert report["kinds"] == dict(Counter(d["source_kind"] for d in relevant))
    assert sum(day["total"] for day in report["days"]) + report["undated"] == len(relevant)
    assert report["undated"] == sum(1 for d in relevant if not d["published"])
    # days are China's (+08:00) by default, whatever zone a source wrote its dates in
    china = timezone(timedelta(hours=8))
    assert {day["day"] for day in report["days"]} == {
        datetime.fromisoformat(d["published"]).astimezone(china).date().isoformat() for d in relevant if d["published"]}
    sellers = Counter(name for d in relevant for name in d["sellers"])
    assert report["sellers"] and all(sellers[name] == n for name, n in report["sellers"])
    assert report["sellers"][0][1] == max(sellers.values())


def test_loss_figures_grouped_by_value_with_their_sources(index, report):
    _, _, documents = index
    with_loss = [d for d in documents if d["relevant"] and d["loss_cny"]]
    largest = max(d["loss_cny"] for d in with_loss)
    top = report["losses"][0]
    assert top["value_cny"] == largest == 1e11  # the association's 1000亿元 estimate
    assert top["documents"] == sum(1 for d in with_loss if d["loss_cny"] == largest)
    assert {url_key(s["url"]) for s in top["sources"]} >= {
        "/a/20210723/310723.html", "/news/2021/07/23/shenzhen-association-loss-estimate.html"}
    assert all(s["text"] for s in top["sources"])  # the figure as each document wrote it
    assert [loss["value_cny"] for loss in report["losses"]] == sorted({d["loss_cny"] for d in with_loss}, reverse=True)
    assert top["scope"] == "industry" and top["subject"] is None


def test_loss_totals_never_mix_scopes(index, report):
    _, _, documents = index
    scopes = report["loss_scopes"]
    assert scopes["industry_largest_cny"] == 1e11  # the association's estimate, not added to anything
    per_seller = {}
    for loss in report["losses"]:
        if loss["scope"] == "seller":
            per_seller[loss["subject"]] = max(per_seller.get(loss["subject"], 0), loss["value_cny"])
    assert scopes["sellers"] == len(per_seller)
    assert scopes["sellers_total_cny"] == (sum(per_seller.values()) if per_seller else None)
    # the demo's "年销售额数十亿元" is a seller's sales: no document's loss figure
    assert all(d["loss_cny"] != 1e9 for d in documents if "数十亿元" in d["text"])


def test_since_restricts_everything(index):
    client, alias, documents = index
    later = gather(client, alias, since="2021-07-01")
    assert later["documents"] == sum(1 for d in documents if d["relevant"] and (d["published"] or "") >= "2021-07")
    assert min(day["day"] for day in later["days"]) >= "2021-07-01"


def test_printed_summary(report, capsys):
    print_report(report)
    out = capsys.readouterr().out
    assert f"{report['documents']} relevant documents" in out
    assert "Documents per day (+08:00)" in out and "Top sellers" in out
    assert re.search(r"2021-07-23  █+ \d+ \(news \d+, forum \d+\)", out)
    assert "1,000亿元 (100.0 bn) (industry-wide)  reported by" in out
    assert "industry-wide estimates: largest 1,000亿元" in out and "Top sellers (documents whose own text" in out
    assert "/news/2021/07/23/shenzhen-association-loss-estimate.html" in out


def test_format_cny():
    assert format_cny(1e11) == "1,000亿元 (100.0 bn)"
    assert format_cny(645000) == "64.5万元"
    assert format_cny(3000) == "3,000元"


def test_cli_writes_self_contained_html(demo_index, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BANWAVE_ES_URL", demo_index.es_url)
    monkeypatch.setenv("BANWAVE_INDEX_PREFIX", demo_index.index_prefix)
    assert main(["report", "--since", "2021-05-01", "--html", "wave.html"]) == 0
    assert "HTML report written to wave.html" in capsys.readouterr().out
    page = (tmp_path / "wave.html").read_text("utf-8")
    assert "<svg" in page and NEWS_COLOUR in page and FORUM_COLOUR in page
    # nothing to fetch: no scripts, stylesheets, images or fonts from elsewhere
    assert not re.search(r"<(script|link|img|iframe)\b|url\(|@import", page, re.I)
    assert re.findall(r'\ssrc=', page) == []


def test_cli_unreachable_es(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BANWAVE_ES_URL", "http://127.0.0.1:9")
    assert main(["report"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("banwave: reading banwave-docs: cannot reach Elasticsearch") and "\n" not in err


# --- the HTML page in a real browser ---

def read_png(path: Path) -> tuple[int, int, list[bytes], int]:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes): width, height,
    rows of pixel bytes, bytes per pixel."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunk = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    bpp = 3 if colour_type == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * bpp, [], bytes(width * bpp)
    for y in range(height):
        filter_type, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, up_left = previous[i], previous[i - bpp] if i >= bpp else 0
            if filter_type == 1:
                line[i] = (line[i] + left) & 0xFF
            elif filter_type == 2:
                line[i] = (line[i] + up) & 0xFF
            elif filter_type == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows, bpp


def colour_pixels(path: Path, *colours: str) -> dict[str, list[tuple[int, int]]]:
    """(x, y) of every pixel exactly each of ``colours`` (#rrggbb)."""
    targets = {bytes.fromhex(colour[1:]): colour for colour in colours}
    width, _, rows, bpp = read_png(path)
    found: dict[str, list[tuple[int, int]]] = {colour: [] for colour in colours}
    for y, row in enumerate(rows):
        for x in range(width):
            colour = targets.get(row[x * bpp:x * bpp + 3])
            if colour:
                found[colour].append((x, y))
    return found


def screenshot(html: str, tmp_path: Path, name: str) -> Path:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail(f"headless Chromium is needed for the report screenshot test; install it with: {CHROMIUM_INSTALL}",
                    pytrace=False)
    page, png = tmp_path / f"{name}.html", tmp_path / f"{name}.png"
    page.write_text(html, "utf-8")
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
                    "--window-size=1200,900", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    return png


def test_chart_is_drawn_in_headless_chromium(report, tmp_path):
    png = screenshot(render(report), tmp_path, "wave")
    found = colour_pixels(png, NEWS_COLOUR, FORUM_COLOUR)
    news, forum = found[NEWS_COLOUR], found[FORUM_COLOUR]
    legend = 2 * 10 * 10  # the two legend swatches
    assert len(news) > legend and len(forum) > legend, (len(news), len(forum))
    xs = [x for x, _ in news + forum]
    # bars from the first day (2021-04-21) to the last (2021-10-20) span most of the 1000 px chart
    assert max(xs) - min(xs) > 800
    # and stand on a common baseline: the lowest coloured row is the same for news bars across the chart
    bottom = max(y for _, y in news)
    assert len({x for x, y in news if y == bottom}) > 20

    empty = screenshot(render({**report, "days": []}), tmp_path, "empty")
    assert colour_pixels(empty, NEWS_COLOUR, FORUM_COLOUR) == {NEWS_COLOUR: [], FORUM_COLOUR: []}
