"""The wave report as one self-contained HTML page: inline CSS and an inline SVG timeline.

No scripts, fonts or images from elsewhere, so the file can be mailed or opened
offline; Chinese text needs a CJK font on the reading machine (``make install``
brings Debian's fonts-wqy-microhei). The chart stacks news (bottom) and forum
documents per day on a continuous date axis (days without documents stay
empty, so gaps show); each day's bars carry a tooltip with its count by kind.
Every loss figure links to the documents that stated it, and the top sellers
get a timeline from their first to their last report on the chart's period.
The overall waves that ``banwave waves`` detected are shaded behind the bars
(onset to last day, a mark on the day the wave was raised) and listed, with
the waves of every scope, in a table.
"""
from __future__ import annotations

from datetime import date, timedelta
from html import escape

from cli.report_data import format_cny

NEWS_COLOUR = "#d62728"
FORUM_COLOUR = "#1f77b4"
WAVE_COLOUR = "#ff7f0e"
CHART_WIDTH, CHART_HEIGHT = 1000, 320
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 16, 28, 40

STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC",
       sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #666; margin-bottom: 16px; }
table { border-collapse: collapse; font-size: 14px; }
td, th { padding: 4px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; }
th { background: #f4f4f4; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.cols { display: flex; gap: 40px; flex-wrap: wrap; } .src { color: #666; font-size: 12px; }
svg text { font-size: 11px; fill: #444; }
.lane { position: relative; width: 320px; height: 10px; background: #f1f1f1; }
.lane span { position: absolute; top: 0; height: 10px; min-width: 3px; background: #555; }
"""
ROLE_WORDS = {"loss": "loss", "frozen": "frozen funds", "fine": "fine"}


def _days(report: dict) -> list[tuple[date, int, int]]:
    """(day, news, forum) for every day from the first to the last with documents."""
    counts = {date.fromisoformat(d["day"]): (d.get("news", 0), d.get("forum", 0)) for d in report["days"]}
    if not counts:
        return []
    first, last = min(counts), max(counts)
    return [(first + timedelta(n), *counts.get(first + timedelta(n), (0, 0))) for n in range((last - first).days + 1)]


def _days_to_next_month(day: date) -> int:
    return ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - day).days


def timeline_svg(report: dict) -> str:
    days = _days(report)
    plot_w = CHART_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
             f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" shape-rendering="crispEdges" role="img" '
             f'aria-label="documents per day">']
    base = MARGIN_TOP + plot_h
    parts.append(f'<line x1="{MARGIN_LEFT}" y1="{base}" x2="{CHART_WIDTH - MARGIN_RIGHT}" y2="{base}" stroke="#999"/>')
    if not days:
        parts.append(f'<text x="{MARGIN_LEFT + 10}" y="{base - 10}">no dated documents</text></svg>')
        return "".join(parts)
    peak = max(news + forum for _, news, forum in days)
    step = plot_w / len(days)
    bar = max(1.0, step * 0.8)
    scale = plot_h / peak
    for tick in sorted({0, peak // 2, peak}):
        y = base - tick * scale
        parts.append(f'<line x1="{MARGIN_LEFT - 4}" y1="{y:.1f}" x2="{CHART_WIDTH - MARGIN_RIGHT}" y2="{y:.1f}" '
                     f'stroke="#eee"/><text x="{MARGIN_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    first = days[0][0]
    for wave in report.get("waves", []):
        if wave["scope_kind"] != "overall":
            continue
        start = max(0, (date.fromisoformat(wave["onset"]) - first).days)
        end = min(len(days) - 1, (date.fromisoformat(wave["last_day"]) - first).days)
        raised = (date.fromisoformat(wave["raised_on"]) - first).days
        if end < 0 or start > len(days) - 1:
            continue
        tooltip = (f"wave ({wave['status']}): onset {wave['onset']}, raised {wave['raised_on']}, peak "
                   f"{wave['peak_day']} ({wave['peak_count']}), {wave['documents']} documents")
        parts.append(f'<rect class="wave" x="{MARGIN_LEFT + start * step:.1f}" y="{MARGIN_TOP}" '
                     f'width="{(end - start + 1) * step:.1f}" height="{plot_h}" fill="{WAVE_COLOUR}" '
                     f'fill-opacity="0.12"><title>{escape(tooltip)}</title></rect>')
        if 0 <= raised < len(days):
            parts.append(f'<line x1="{MARGIN_LEFT + (raised + 0.5) * step:.1f}" y1="{MARGIN_TOP}" '
                         f'x2="{MARGIN_LEFT + (raised + 0.5) * step:.1f}" y2="{base}" stroke="{WAVE_COLOUR}" '
                         f'stroke-dasharray="3,2"><title>{escape(tooltip)}</title></line>')
    for i, (day, news, forum) in enumerate(days):
        x = MARGIN_LEFT + i * step + (step - bar) / 2
        tooltip = f"{day}: {news + forum} documents (news {news}, forum {forum})"
        for count, bottom, colour in ((news, 0, NEWS_COLOUR), (forum, news, FORUM_COLOUR)):
            if count:
                parts.append(f'<rect x="{x:.1f}" y="{base - (bottom + count) * scale:.1f}" width="{bar:.1f}" '
                             f'height="{count * scale:.1f}" fill="{colour}"><title>{tooltip}</title></rect>')
        # month starts, and the first day unless a month label follows too closely
        if day.day == 1 or (i == 0 and _days_to_next_month(day) * step > 70):
            parts.append(f'<text x="{x:.1f}" y="{base + 16}">{day.isoformat()[:7] if day.day == 1 else day}</text>')
    legend_x = CHART_WIDTH - MARGIN_RIGHT - 150
    for n, (label, colour) in enumerate((("news", NEWS_COLOUR), ("forum", FORUM_COLOUR))):
        # above the plot, clear of the tallest bar
        parts.append(f'<rect x="{legend_x + n * 75}" y="4" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{legend_x + n * 75 + 14}" y="13">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _ranking(title: str, rows: list[tuple[str, int]]) -> str:
    if not rows:
        return ""
    body = "".join(f"<tr><td>{escape(name)}</td><td class=n>{count}</td></tr>" for name, count in rows)
    return f"<div><h2>{escape(title)}</h2><table><tr><th>name</th><th>documents</th></tr>{body}</table></div>"


def _sellers(report: dict) -> str:
    """Top sellers with a lane from their first to their last report on the report's period."""
    if not report["sellers"]:
        return ""
    period = report["period"]
    first, last = (date.fromisoformat(day) for day in period) if period else (None, None)
    length = max(1, (last - first).days) if period else 1
    rows = []
    for seller in report["sellers"]:
        lane = ""
        if period and seller["first"]:
            start = (date.fromisoformat(seller["first"]) - first).days / length * 100
            width = (date.fromisoformat(seller["last"]) - date.fromisoformat(seller["first"])).days / length * 100
            lane = (f'<div class=lane title="{escape(seller["first"])} to {escape(seller["last"])}">'
                    f'<span style="left:{start:.1f}%;width:{width:.1f}%"></span></div>')
        rows.append(f"<tr><td>{escape(seller['name'])}</td><td class=n>{seller['documents']}</td>"
                    f"<td>{escape(seller['first'] or 'undated')}</td><td>{escape(seller['last'] or '')}</td>"
                    f"<td>{lane}</td></tr>")
    return ("<div><h2>Top sellers</h2><table><tr><th>seller</th><th>documents</th><th>first report</th>"
            f"<th>last report</th><th>timeline</th></tr>{''.join(rows)}</table></div>")


def _waves(report: dict) -> str:
    """Every detected wave of the period: scope, status, onset, raised, peak and size."""
    if not report.get("waves"):
        return ""
    rows = "".join(
        f"<tr><td>{escape(wave['scope_kind'])}</td><td>{escape(wave['scope'])}</td><td>{escape(wave['status'])}</td>"
        f"<td>{escape(wave['onset'])}</td><td>{escape(wave['raised_on'])}</td>"
        f"<td>{escape(wave['peak_day'])} ({wave['peak_count']})</td><td>{escape(wave['last_day'])}</td>"
        f"<td class=n>{wave['documents']}</td></tr>" for wave in report["waves"])
    return ("<h2>Detected waves</h2><table><tr><th>scope</th><th></th><th>status</th><th>onset</th><th>raised</th>"
            f"<th>peak</th><th>last day</th><th>documents</th></tr>{rows}</table>")


def _link(source: dict) -> str:
    wording = f"“{escape(source['text'])}” " if source["text"] else ""
    return (f'{escape(source["published"] or "undated")} {escape(source["source"])} {wording}'
            f'<a href="{escape(source["url"], quote=True)}">{escape(source["title"] or source["url"])}</a>')


def _roles(item: dict) -> str:
    return escape(", ".join(ROLE_WORDS.get(role, role) for role in item["roles"]))


def _figure_table(items: list[dict], by_seller: bool) -> str:
    """One row per figure: (seller,) value, role, number of documents, links to the first of them."""
    head = "<th>seller</th>" if by_seller else ""
    rows = []
    for item in items:
        seller = f"<td>{escape(item['subject'] or '')}</td>" if by_seller else ""
        links = "<br>".join(_link(source) for source in item["sources"])
        rows.append(f"<tr>{seller}<td class=n>{escape(format_cny(item['value_cny']))}</td><td>{_roles(item)}</td>"
                    f"<td class=n>{item['documents']}</td><td class=src>{links}</td></tr>")
    return (f"<table><tr>{head}<th>figure (CNY)</th><th>role</th><th>documents</th><th>stated by</th></tr>"
            f"{''.join(rows)}</table>")


def _losses(report: dict) -> str:
    losses = report["losses"]
    parts = ["<h2>Loss figures</h2><p>Losses, frozen funds and fines as the documents stated them. "
             "Figures of different scope are never added: an industry-wide estimate, one seller's frozen "
             "funds and another's loss measure different things.</p>"]
    if not any(losses.values()):
        parts.append("<p>None reported.</p>")
    if losses["sellers"]:
        parts += ["<h3>By seller: the largest stated figure</h3>", _figure_table(losses["sellers"], True)]
    if losses["industry"]:
        parts += ["<h3>Industry-wide estimates (each an estimate of one total)</h3>",
                  _figure_table(losses["industry"], False)]
    if losses["unattributed"]:
        parts += ["<h3>Not attributed to a seller or the industry</h3>", _figure_table(losses["unattributed"], False)]
    if report["money_without_role"]:
        parts.append(f"<p>{report['money_without_role']} documents have money figures without a role (indexed "
                     "before figure roles): not counted.</p>")
    return "".join(parts)


def render(report: dict) -> str:
    kinds = ", ".join(f"{escape(kind)} {count}" for kind, count in sorted(report["kinds"].items()))
    since = f" since {escape(report['since'])}" if report.get("since") else ""
    period = (f"published {escape(report['period'][0])} to {escape(report['period'][1])}" if report["period"]
              else "no dated documents")
    undated = (f" · {report['undated']} undated (no publication date; not in the chart)" if report["undated"] else "")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Store-closure wave report</title>
<style>{STYLE}</style></head><body>
<h1>Store-closure wave</h1>
<div class="meta">{escape(report['index'])}{since} · {report['documents']} relevant documents ({kinds or 'none'})
· {period}{undated} · generated {escape(report.get('generated', ''))} · days in {escape(report['tz'])}</div>
<h2>Documents per day</h2>
<figure id="timeline">{timeline_svg(report)}</figure>
{_waves(report)}
{_sellers(report)}
<div class="cols">{_ranking('Associations', report['associations'])}
{_ranking('Government bodies', report['governments'])}</div>
{_losses(report)}
</body></html>
"""
