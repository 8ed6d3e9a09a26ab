"""Alert texts: short, in the channel's language (zh or en), with the counts, the sellers, the top
stories, the largest stated loss and a link (the Kibana Waves dashboard when the alerts file names
Kibana, else the wave's first report)."""
from __future__ import annotations

from dataclasses import dataclass

DASHBOARD_PATH = "/app/dashboards#/view/banwave-waves"
TOP_SELLERS, TOP_STORIES = 5, 3

SCOPE_LABELS = {
    "en": {"overall": "all sources", "platform": "platform {}", "seller": "seller {}", "source_kind": "{} sources"},
    "zh": {"overall": "全部来源", "platform": "平台「{}」", "seller": "卖家「{}」", "source_kind": "{}来源"},
}
KIND_NAMES = {"zh": {"news": "新闻", "forum": "论坛"}, "en": {"news": "news", "forum": "forum"}}
HEADLINES = {
    "en": {"emerging": "Wave emerging", "active": "Wave confirmed", "subsiding": "Wave subsiding",
           "escalated": "Wave past {} documents", "over": "Wave over"},
    "zh": {"emerging": "封店潮预警：出现新一波", "active": "封店潮确认：持续发酵", "subsiding": "封店潮减弱",
           "escalated": "封店潮升级：累计超过{}篇", "over": "封店潮结束"},
}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    link: str | None


def scope_label(record: dict, lang: str) -> str:
    value = record["scope"]
    if record["scope_kind"] == "source_kind":
        value = KIND_NAMES[lang].get(value, value)
    return SCOPE_LABELS[lang][record["scope_kind"]].format(value)


def money(value: float, lang: str) -> str:
    if lang == "zh":
        return f"{value / 1e8:,.4g}亿元" if value >= 1e8 else f"{value / 1e4:,.4g}万元" if value >= 1e4 else f"{value:,.0f}元"
    return f"CNY {value / 1e9:,.1f} bn" if value >= 1e9 else f"CNY {value / 1e6:,.1f} m" if value >= 1e6 \
        else f"CNY {value:,.0f}"


def link_for(record: dict, kibana_url: str | None) -> str | None:
    if kibana_url:
        return kibana_url + DASHBOARD_PATH
    return (record.get("first_report") or {}).get("url")


def compose(event: str, level: int, record: dict, lang: str, kibana_url: str | None,
            escalation: tuple[int, ...]) -> Message:
    """The message for ``event`` (``level``: escalation level reached) about the wave ``record``."""
    threshold = escalation[level - 1] if event == "escalated" and 0 < level <= len(escalation) else 0
    headline = HEADLINES[lang][event].format(threshold)
    subject = f"[banwave] {headline}: {scope_label(record, lang)}" if lang == "en" else \
        f"【banwave】{headline}：{scope_label(record, lang)}"
    onset, peak = record["onset"][:10], record["peak_day"][:10]
    if lang == "en":
        lines = [subject,
                 f"{record['documents']} documents since {onset} (usually {record['baseline']:.1f}/day); "
                 f"peak {record['peak_count']} on {peak}; {record['stories']} stories, {record['threads']} forum threads."]
        if event == "over":
            lines[1] = (f"{record['documents']} documents from {onset} to {record['last_active_day'][:10]}; "
                        f"peak {record['peak_count']} on {peak}.")
    else:
        lines = [subject,
                 f"自{onset}起相关文档{record['documents']}篇（平时约{record['baseline']:.1f}篇/天），"
                 f"{peak}达到峰值{record['peak_count']}篇；报道{record['stories']}组，论坛帖子{record['threads']}个。"]
        if event == "over":
            lines[1] = (f"{onset}至{record['last_active_day'][:10]}共{record['documents']}篇，"
                        f"{peak}峰值{record['peak_count']}篇。")
    sellers = record.get("sellers_hit") or []
    if sellers:
        names = ", ".join(f"{s['name']} ({s['documents']})" for s in sellers[:TOP_SELLERS])
        more = len(sellers) > TOP_SELLERS or record.get("sellers_count", 0) > TOP_SELLERS
        total = record.get("sellers_count") or len(sellers)
        lines.append(f"Sellers ({total}): {names}{' ...' if more else ''}" if lang == "en"
                     else f"涉及卖家（{total}家）：{names.replace(', ', '、')}{'等' if more else ''}")
    stories = record.get("stories_top") or []
    if stories:
        lines.append("Top stories:" if lang == "en" else "主要报道：")
        lines += [f"- {s.get('title') or s.get('url')} {s.get('url') or ''}".rstrip() for s in stories[:TOP_STORIES]]
    losses = record.get("losses") or []
    if losses:
        loss = losses[0]
        lines.append(f"Largest stated loss: {money(loss['value_cny'], lang)} ({loss.get('text')}) {loss.get('url')}"
                     if lang == "en" else f"最大损失：{money(loss['value_cny'], lang)}（{loss.get('text')}）{loss.get('url')}")
    link = link_for(record, kibana_url)
    if link:
        lines.append(f"Link: {link}" if lang == "en" else f"链接：{link}")
    return Message(subject=subject, text="\n".join(lines), link=link)
