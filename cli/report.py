"""``banwave report``: a summary of the store-closure wave from the index.

Relevant documents only (the NLP verdict): the period and documents per day
split news/forum (and how many have no publication date), top sellers with
their first and last report, associations and government bodies, and the loss
figures by seller, with industry-wide estimates apart and nothing added across
them (cli/report_data.py gathers it all). ``--html FILE`` writes the report as
one self-contained HTML page with a timeline chart (cli/report_html.py) before
anything is printed, so ``banwave report --html F | head`` still writes F.
"""
from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

from cli.report_data import ReportError, format_cny, gather
from cli.report_html import render
from cli.search import iso_date
from pipelines.elastic import make_client

__all__ = ["ReportError", "format_cny", "gather", "print_report", "register"]

ROLE_WORDS = {"loss": "loss", "frozen": "frozen funds", "fine": "fine"}


def register(subparsers) -> None:
    parser = subparsers.add_parser("report", help="summarise the wave: documents per day, sellers, loss figures")
    parser.add_argument("--since", type=iso_date, metavar="DATE", help="only documents published on or after DATE")
    parser.add_argument("--tz", default="+08:00", metavar="ZONE",
                        help="time zone of the days, e.g. +08:00 (default: China) or UTC")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write the report as a self-contained HTML page")
    parser.set_defaults(func=run)


def roles(item: dict) -> str:
    return ", ".join(ROLE_WORDS.get(role, role) for role in item["roles"])


def first_source(item: dict) -> str:
    source = item["sources"][0]
    wording = f"“{source['text']}” " if source["text"] else ""
    return f"{source['published'] or 'undated'}  {source['source']}  {wording}{source['title']}"


def print_report(report: dict, out=None) -> None:
    def write(line: str = "") -> None:
        print(line, file=out or sys.stdout)

    days = report["days"]
    period = report["period"]
    span = f", published {period[0]} to {period[1]}" if period else ""
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(report["kinds"].items()))
    write(f"Store-closure wave: {report['index']}" + (f" since {report['since']}" if report["since"] else ""))
    write(f"{report['documents']} relevant documents ({kinds or 'none'}){span}"
          + (f"; {report['undated']} undated (no publication date; not in the days below)"
             if report["undated"] else ""))
    if days:
        write()
        write(f"Documents per day ({report['tz']})")
        peak = max(day["total"] for day in days)
        for day in days:
            bar = "█" * max(1, round(30 * day["total"] / peak))
            split = ", ".join(f"{kind} {day[kind]}" for kind in ("news", "forum") if day.get(kind))
            write(f"  {day['day']}  {bar} {day['total']}" + (f" ({split})" if split else ""))
    if report["sellers"]:
        write()
        write("Top sellers (documents; first and last report)")
        write("  counted by the documents whose own text names them, not a forum reply's thread title")
        for rank, seller in enumerate(report["sellers"], 1):
            count = seller["documents"]
            write(f"  {rank:2}. {seller['name']}  {count} document{'s' if count != 1 else ''}"
                  + (f"  {seller['first']} to {seller['last']}" if seller["first"] else ""))
    for key, label in (("associations", "Associations"), ("governments", "Government bodies")):
        if report[key]:
            write()
            write(label)
            for rank, (name, count) in enumerate(report[key], 1):
                write(f"  {rank:2}. {name}  {count} document{'s' if count != 1 else ''}")
    print_waves(report, write)
    print_losses(report, write)


def print_waves(report: dict, write) -> None:
    if not report.get("waves"):
        return
    write()
    write("Detected waves (banwave waves; onset, raised, peak, last day)")
    for wave in report["waves"]:
        write(f"  {wave['scope_kind']} {wave['scope']}: {wave['status']}, onset {wave['onset']}, raised "
              f"{wave['raised_on']}, peak {wave['peak_day']} ({wave['peak_count']}), last {wave['last_day']}, "
              f"{wave['documents']} documents")


def print_losses(report: dict, write) -> None:
    losses = report["losses"]
    write()
    write("Loss figures (losses, frozen funds, fines; figures of different scope are never added)")
    if not any(losses.values()):
        write("  none reported")
    if losses["sellers"]:
        write("  By seller, the largest stated figure:")
        for item in losses["sellers"]:
            write(f"    {item['subject']}  {format_cny(item['value_cny'])} ({roles(item)}), "
                  f"stated by {item['documents']} document(s), first:")
            write(f"      {first_source(item)}")
            write(f"        {item['sources'][0]['url']}")
    for key, label in (("industry", "Industry-wide estimates (each an estimate of one total; not added)"),
                       ("unattributed", "Figures the NLP stage could not attribute to a seller or the industry")):
        if losses[key]:
            write(f"  {label}:")
            for item in losses[key][:5]:
                write(f"    {format_cny(item['value_cny'])} ({roles(item)}), reported by {item['documents']} "
                      "document(s), first:")
                for source in item["sources"]:
                    wording = f"“{source['text']}” " if source["text"] else ""
                    write(f"      {source['published'] or 'undated'}  {source['source']}  {wording}{source['title']}")
                    write(f"        {source['url']}")
    if report["money_without_role"]:
        write(f"  {report['money_without_role']} relevant document(s) have money figures without a role "
              "(indexed before figure roles): not counted; re-crawl or re-index them")


def run(args, env) -> int:
    client = make_client(env)
    try:
        report = gather(client, env.docs_alias, args.since, args.tz, env.waves_alias)
    except ReportError as exc:
        print(f"banwave: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if args.html:  # first: a closed pipe on stdout (| head) must not cost the file
        report["generated"] = date.today().isoformat()
        try:
            args.html.write_text(render(report), encoding="utf-8")
        except OSError as exc:
            print(f"banwave: cannot write {args.html}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    try:
        print_report(report)
        if args.html:
            print(f"\nHTML report written to {args.html}")
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader stopped (| head): nothing more to say; keep Python from complaining at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
