"""`banwave report` on the crawled demo web (conftest's demo_index) and on documents with figure
roles written here, and its HTML page in headless Chromium (chart, Chinese glyphs)."""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cli.main import main
from cli.report import print_report
from cli.report_data import format_cny, gather, loss_figures
from cli.report_html import FORUM_COLOUR, NEWS_COLOUR, STYLE, render
from conftest import REPO
from searchdata import index_documents
from waves.records import save

CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium"
CJK_FONT_INSTALL = "make install (Debian's fonts-wqy-microhei)"


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
    days = {datetime.fromisoformat(d["published"]).astimezone(china).date().isoformat()
            for d in relevant if d["published"]}
    assert {day["day"] for day in report["days"]} == days
    assert report["period"] == (min(days), max(days))
    sellers = Counter(name for d in relevant for name in d["sellers"])
    assert report["sellers"] and all(sellers[s["name"]] == s["documents"] for s in report["sellers"])
    assert report["sellers"][0]["documents"] == max(sellers.values())
    for seller in report["sellers"]:  # first and last report of each seller
        dates = sorted(datetime.fromisoformat(d["published"]).astimezone(china).date().isoformat()
                       for d in relevant if seller["name"] in d["sellers"] and d["published"])
        assert (seller["first"], seller["last"]) == (dates[0], dates[-1])


def test_money_without_roles_is_counted_not_reported(index, report):
    _, _, documents = index
    unroled = [d for d in documents if d["relevant"] and any(f["kind"] == "money" for f in d["figures"])
               and not any(f.get("role") for f in d["figures"])]
    assert report["money_without_role"] == len(unroled)


def test_since_restricts_everything(index):
    client, alias, documents = index
    later = gather(client, alias, since="2021-07-01")
    assert later["documents"] == sum(1 for d in documents if d["relevant"] and (d["published"] or "") >= "2021-07")
    assert min(day["day"] for day in later["days"]) >= "2021-07-01"


def test_printed_summary(report, capsys):
    print_report(report)
    out = capsys.readouterr().out
    assert f"{report['documents']} relevant documents" in out
    assert f"published {report['period'][0]} to {report['period'][1]}" in out
    assert "Documents per day (+08:00)" in out and "Top sellers (documents; first and last report)" in out
    assert re.search(r"2021-07-23  █+ \d+ \(news \d+, forum \d+\)", out)
    # no summed total; the industry heading's "an estimate of one total" is not one (printed now
    # that the NLP stage gives the association's 1000亿元 estimate scope "industry")
    assert "total" not in out.replace("an estimate of one total", "")
    assert "Industry-wide estimates" in out


def test_format_cny():
    assert format_cny(1e11) == "1,000亿元 (100.0 bn)"
    assert format_cny(645000) == "64.5万元"
    assert format_cny(3000) == "3,000元"


# --- loss figures by role and scope, on documents written here with the NLP stage's fields ---

def money(value: float, role: str | None, scope: str | None = None, subject: str | None = None,
          text: str = "") -> dict:
    return {"kind": "money", "value": value, "currency": "CNY", "value_cny": value, "text": text or format_cny(value),
            "role": role, "scope": scope, "subject": subject}


def document(n: int, published: str | None, figures: list[dict], relevant: bool = True, sellers=()) -> dict:
    return {"id": f"d{n}", "url": f"http://news.example/{n}.html", "title": f"报道{n}", "text": "店铺被封",
            "source": "example", "source_kind": "news", "doc_type": "article", "published": published,
            "relevant": relevant, "figures": figures, "sellers": list(sellers), "story_id": f"d{n}"}


ROLE_DOCUMENTS = [
    document(1, "2021-07-01T10:00:00+08:00", [money(5e8, "loss", "seller", "傲基", "损失5亿元"),
                                              money(1e11, "loss", "industry", text="超千亿元")], sellers=["傲基"]),
    document(2, "2021-07-03T10:00:00+08:00", [money(1e9, "frozen", "seller", "傲基", "冻结资金10亿元")],
             sellers=["傲基"]),
    document(3, "2021-07-05T10:00:00+08:00", [money(2e9, "sales", "seller", "泽宝", "年销售额20亿元"),
                                              money(3e7, "fine", "seller", "泽宝", "罚款3000万元")], sellers=["泽宝"]),
    document(4, "2021-06-20T10:00:00+08:00", [money(1e11, "loss", "industry", text="1000亿元")]),
    document(5, None, [money(2e6, "loss", None, None, "损失200万元")]),
    document(6, "2021-07-06T10:00:00+08:00", [money(9e11, "loss", "industry")], relevant=False),
    document(7, "2021-07-07T10:00:00+08:00", [{"kind": "money", "value": 5e6, "value_cny": 5e6, "text": "500万元"}]),
]


@pytest.fixture
def role_report(es, es_env):
    alias = index_documents(es, es_env.index_prefix, ROLE_DOCUMENTS)
    return {**gather(es, alias), "generated": "2026-01-01"}


def test_losses_by_seller_and_scope_are_never_added(role_report, capsys):
    losses = role_report["losses"]
    # each seller: its largest loss, frozen or fine figure; sales are no loss
    assert [(i["subject"], i["value_cny"], i["roles"], i["documents"]) for i in losses["sellers"]] == [
        ("傲基", 1e9, ["frozen"], 1), ("泽宝", 3e7, ["fine"], 1)]
    assert losses["sellers"][0]["sources"][0]["text"] == "冻结资金10亿元"
    # the industry estimate, stated twice, listed apart with its sources oldest first
    (industry,) = losses["industry"]
    assert industry["value_cny"] == 1e11 and industry["documents"] == 2
    assert [s["url"] for s in industry["sources"]] == ["http://news.example/4.html", "http://news.example/1.html"]
    assert [i["value_cny"] for i in losses["unattributed"]] == [2e6]
    assert role_report["money_without_role"] == 1
    print_report(role_report)
    out = capsys.readouterr().out
    assert "傲基  10亿元 (1.0 bn) (frozen funds), stated by 1 document(s)" in out
    assert "Industry-wide estimates" in out and "年销售额" not in out
    for total in (1e9 + 3e7, 1e11 + 1e9, 1e11 + 1e9 + 3e7, 1e11 + 1e9 + 3e7 + 2e6, 2e11):
        assert format_cny(total) not in out  # no sum across sellers, scopes or copies
    assert "1 relevant document(s) have money figures without a role" in out


def test_html_carries_period_undated_tooltips_links_and_seller_lanes(role_report):
    page = render(role_report)
    assert "published 2021-06-20 to 2021-07-07" in page and "1 undated" in page
    assert "<title>2021-07-01: 1 documents (news 1, forum 0)</title>" in page
    for group in ("sellers", "industry", "unattributed"):
        for item in role_report["losses"][group]:
            for source in item["sources"]:
                assert f'href="{source["url"]}"' in page  # every figure links to who stated it
    assert 'class=lane title="2021-07-01 to 2021-07-03"' in page  # 傲基: first and last report


WAVE = {"wave_id": "overall-all-20210701", "scope_kind": "overall", "scope": "all", "status": "over",
        "onset": "2021-07-01T00:00:00+08:00", "raised_on": "2021-07-02T00:00:00+08:00",
        "peak_day": "2021-07-03T00:00:00+08:00", "peak_count": 1, "last_active_day": "2021-07-05T00:00:00+08:00",
        "ended_on": "2021-07-19T00:00:00+08:00", "documents": 3}


def test_detected_waves_are_on_the_timeline_and_in_a_table(es, es_env, capsys):
    alias = index_documents(es, es_env.index_prefix, ROLE_DOCUMENTS)
    save(es, es_env.waves_alias, [WAVE, {**WAVE, "wave_id": "seller-x", "scope_kind": "seller", "scope": "傲基"},
                                  {**WAVE, "wave_id": "old", "onset": "2020-01-01T00:00:00+08:00",
                                   "ended_on": "2020-02-01T00:00:00+08:00", "last_active_day": "2020-01-05T00:00:00+08:00"}])
    report = gather(es, alias, "2021-06-01", waves_alias=es_env.waves_alias)
    assert [(w["scope_kind"], w["onset"], w["raised_on"], w["last_day"]) for w in report["waves"]] == [
        ("overall", "2021-07-01", "2021-07-02", "2021-07-19"), ("seller", "2021-07-01", "2021-07-02", "2021-07-19")]
    page = render({**report, "generated": "2026-01-01"})
    # one shaded band (the overall wave only) from its onset, and the day it was raised marked
    assert page.count('class="wave"') == 1 and "wave (over): onset 2021-07-01, raised 2021-07-02" in page
    assert "<h2>Detected waves</h2>" in page and "<td>傲基</td>" in page
    print_report(report)
    assert "overall all: over, onset 2021-07-01, raised 2021-07-02" in capsys.readouterr().out
    assert gather(es, alias)["waves"] == []  # without a waves alias no waves are read


def test_loss_figures_count_a_document_once_per_figure():
    twice = document(1, "2021-07-01", [money(1e11, "loss", "industry"), money(1e11, "loss", "industry")])
    assert loss_figures([twice])["industry"][0]["documents"] == 1


# --- the command ---

@pytest.fixture
def cli_env(demo_index, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BANWAVE_ES_URL", demo_index.es_url)
    monkeypatch.setenv("BANWAVE_INDEX_PREFIX", demo_index.index_prefix)
    return demo_index


def test_cli_writes_self_contained_html(cli_env, tmp_path, capsys):
    assert main(["report", "--since", "2021-05-01", "--html", "wave.html"]) == 0
    assert "HTML report written to wave.html" in capsys.readouterr().out
    page = (tmp_path / "wave.html").read_text("utf-8")
    assert "<svg" in page and NEWS_COLOUR in page and FORUM_COLOUR in page
    # nothing to fetch: no scripts, stylesheets, images or fonts from elsewhere
    assert not re.search(r"<(script|link|img|iframe)\b|url\(|@import", page, re.I)
    assert re.findall(r'\ssrc=', page) == []


@pytest.mark.slow  # a `banwave` subprocess
def test_html_is_written_even_when_the_reader_stops_early(cli_env, tmp_path):
    environ = {"PATH": "/usr/bin:/bin", "BANWAVE_ES_URL": cli_env.es_url,
               "BANWAVE_INDEX_PREFIX": cli_env.index_prefix, "BANWAVE_ENV_FILE": ""}
    proc = subprocess.run(f"'{sys.executable}' -m cli.main report --html '{tmp_path}/wave.html' | head -1",
                          shell=True, cwd=REPO, env=environ, capture_output=True, text=True, timeout=120)
    assert proc.stdout.startswith("Store-closure wave:") and proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert (tmp_path / "wave.html").read_text("utf-8").rstrip().endswith("</html>")


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


# Chinese text must render as glyphs. Without a CJK font, Chromium draws every character as the
# same .notdef box. So: draw distinct characters in the report's own font stack, one per fixed
# cell, and require (1) ink in every cell, (2) ink inside the cell's ink box, not only on its
# outline (a box is an outline), and (3) cells that differ from one another (boxes are identical).
PROBE = "傲基泽宝帕拓逊封店冻结"
CELL, PITCH, TOP, LEFT = 64, 80, 20, 20


def ink(rows: list[bytes], bpp: int, x0: int, y0: int) -> set[tuple[int, int]]:
    """Dark pixels of one probe cell, relative to the cell."""
    return {(x, y) for y in range(CELL) for x in range(CELL)
            if sum(rows[y0 + y][(x0 + x) * bpp:(x0 + x) * bpp + 3]) < 384}


def test_chinese_text_renders_as_glyphs_not_boxes(tmp_path):
    cells = "".join(f'<span style="position:absolute;left:{LEFT + i * PITCH}px;top:{TOP}px;width:{CELL}px;'
                    f'height:{CELL}px;font-size:48px;line-height:{CELL}px;text-align:center">{char}</span>'
                    for i, char in enumerate(PROBE))
    html = f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>{STYLE}</style></head>' \
           f'<body style="margin:0;background:#fff;color:#000">{cells}</body></html>'
    _, _, rows, bpp = read_png(screenshot(html, tmp_path, "glyphs"))
    shapes = [ink(rows, bpp, LEFT + i * PITCH, TOP) for i in range(len(PROBE))]
    hint = f"Chinese text does not render as glyphs: install a CJK font with {CJK_FONT_INSTALL}"
    assert all(len(shape) > 40 for shape in shapes), hint
    for shape in shapes:
        xs, ys = [x for x, _ in shape], [y for _, y in shape]
        inside = [(x, y) for x, y in shape if min(xs) + 3 < x < max(xs) - 3 and min(ys) + 3 < y < max(ys) - 3]
        assert len(inside) > 0.3 * len(shape), hint  # strokes inside, not a hollow box
    distinct = {frozenset(shape) for shape in shapes}
    assert len(distinct) == len(PROBE), hint
