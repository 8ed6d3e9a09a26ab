"""The wave report as one self-contained HTML page: inline CSS and an inline SVG timeline.

No scripts, fonts or images from elsewhere, so the file can be mailed or opened
offline. The chart stacks news (bottom) and forum documents per day on a
continuous date axis (days without documents stay empty, so gaps show).
"""
from __future__ import annotations

from datetime import date, timedelta
from html import escape

from cli.report import format_cny, scope_lines

NEWS_COLOUR = "#d62728"
FORUM_COLOUR = "#1f77b4"
CHART_WIDTH, CHART_HEIGHT = 1000, 320
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 16, 16, 40

STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #666; margin-bottom: 16px; }
table { border-collapse: collapse; font-size: 14px; }
td, th { padding: 4px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; }
th { background: #f4f4f4; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.cols { display: flex; gap: 40px; flex-wrap: wrap; } .src { color: #666; font-size: 12px; }
svg text { font-size: 11px; fill: #444; }
"""


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
    for i, (day, news, forum) in enumerate(days):
        x = MARGIN_LEFT + i * step + (step - bar) / 2
        for count, bottom, colour in ((news, 0, NEWS_COLOUR), (forum, news, FORUM_COLOUR)):
            if count:
                parts.append(f'<rect x="{x:.1f}" y="{base - (bottom + count) * scale:.1f}" width="{bar:.1f}" '
                             f'height="{count * scale:.1f}" fill="{colour}"><title>{day} {count}</title></rect>')
        # month starts, and the first day unless a month label follows too closely
        if day.day == 1 or (i == 0 and _days_to_next_month(day) * step > 70):
            parts.append(f'<text x="{x:.1f}" y="{base + 16}">{day.isoformat()[:7] if day.day == 1 else day}</text>')
    legend_x = CHART_WIDTH - MARGIN_RIGHT - 150
    for n, (label, colour) in enumerate((("news", NEWS_COLOUR), ("forum", FORUM_COLOUR))):
        parts.append(f'<rect x="{legend_x + n * 75}" y="{MARGIN_TOP}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{legend_x + n * 75 + 14}" y="{MARGIN_TOP + 9}">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _ranking(title: str, rows: list[tuple[str, int]]) -> str:
    if not rows:
        return ""
    body = "".join(f"<tr><td>{escape(name)}</td><td class=n>{count}</td></tr>" for name, count in rows)
    return f"<div><h2>{escape(title)}</h2><table><tr><th>name</th><th>documents</th></tr>{body}</table></div>"


def _losses(report: dict) -> str:
    if not report["losses"]:
        return "<h2>Loss figures</h2><p>None reported.</p>"
    rows = []
    for loss in report["losses"]:
        sources = "<br>".join(
            f'{escape(s["published"] or "undated")} {escape(s["source"])} '
            f'{("“" + escape(s["text"]) + "” ") if s["text"] else ""}'
            f'<a href="{escape(s["url"], quote=True)}">{escape(s["title"] or s["url"])}</a>'
            for s in loss["sources"])
        whose = {"industry": "industry-wide", "seller": loss["subject"]}.get(loss["scope"]) or "unattributed"
        rows.append(f"<tr><td class=n>{escape(format_cny(loss['value_cny']))}</td><td>{escape(whose)}</td>"
                    f"<td class=n>{loss['documents']}</td><td class=src>{sources}</td></tr>")
    scopes = "".join(f"<li>{escape(line)}</li>" for line in scope_lines(report["loss_scopes"]))
    return (f"<h2>Loss figures</h2><p>Losses, frozen funds and fines: {len(report['losses'])} distinct figures in "
            f"{report['loss_documents']} documents. Figures of different scope are never added:</p><ul>{scopes}</ul>"
            f"<table><tr><th>figure (CNY)</th><th>whose</th><th>documents</th><th>first reported by</th></tr>"
            f"{''.join(rows)}</table>")


def render(report: dict) -> str:
    kinds = ", ".join(f"{escape(kind)} {count}" for kind, count in sorted(report["kinds"].items()))
    since = f" since {escape(report['since'])}" if report.get("since") else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Store-closure wave report</title>
<style>{STYLE}</style></head><body>
<h1>Store-closure wave</h1>
<div class="meta">{escape(report['index'])}{since} · {report['documents']} relevant documents ({kinds or 'none'})
· generated {escape(report.get('generated', ''))} · days in {escape(report['tz'])}</div>
<h2>Documents per day</h2>
<figure id="timeline">{timeline_svg(report)}</figure>
<div class="cols">{_ranking('Top sellers', report['sellers'])}{_ranking('Associations', report['associations'])}
{_ranking('Government bodies', report['governments'])}</div>
{_losses(report)}
</body></html>
"""
