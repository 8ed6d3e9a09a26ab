"""What ``banwave kibana import`` works out before posting the saved objects.

- **Minimum Kibana version**: Kibana migrates saved objects older than itself
  and refuses newer ones ("belongs to a more recent version"), so the highest
  ``typeMigrationVersion``/``coreMigrationVersion`` the objects declare is the
  oldest Kibana that takes them (deploy/kibana/build.py says why each is what
  it is).
- **Time range**: a dashboard saved with a relative range ("last 2 years")
  opens empty on a historical wave. The dashboards whose panels read the
  documents get the range of the data: the first and last ``timeline_at``
  (publication date, else crawl time, so undated posts are inside it), whole
  days, unless the user gives ``--from``/``--to``.
"""
from __future__ import annotations

import argparse
import re
from datetime import date, datetime, timedelta

from elasticsearch import ApiError, NotFoundError, TransportError

from pipelines.elastic import describe_error

TIME_FIELD = "timeline_at"
_DATE_MATH = re.compile(r"^now([+-]\d+[yMwdhHms])*(/[yMwdhHms])?$")


class RangeError(RuntimeError):
    """The time range could not be read from the index; the message is one line."""


def version_tuple(version: str) -> tuple[int, ...]:
    """'8.19.2' (or '8.9.0-SNAPSHOT') -> (8, 19, 2)."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("-")[0])[:3])


def minimum_version(objects: list[dict]) -> str:
    """The highest migration version any object declares: the oldest Kibana that imports them all."""
    versions = [item[key] for item in objects for key in ("typeMigrationVersion", "coreMigrationVersion")
                if item.get(key)]
    return max(versions, key=version_tuple, default="8.0.0")


def time_bound(value: str) -> str:
    """argparse type for --from/--to: an ISO date or date-time, or Kibana date math (now-30d)."""
    if _DATE_MATH.match(value):
        return value
    try:
        (date if len(value) == 10 else datetime).fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (2021-06-01), a date-time or date math "
                                         "(now-30d)") from None
    return value


def data_time_range(client, alias: str) -> tuple[str, str] | None:
    """Whole days from the first to the last ``timeline_at`` in ``alias`` (the end day included),
    as ISO dates; None when the index holds no dated document."""
    try:
        aggs = client.search(index=alias, size=0, aggs={
            "first": {"min": {"field": TIME_FIELD, "format": "yyyy-MM-dd"}},
            "last": {"max": {"field": TIME_FIELD, "format": "yyyy-MM-dd"}}})["aggregations"]
    except NotFoundError:
        raise RangeError(f"{alias} does not exist: run `banwave es setup` and a crawl, or give --from and --to") \
            from None
    except (ApiError, TransportError) as exc:
        raise RangeError(f"reading the time range from {alias}: {describe_error(exc)} "
                         "(or give --from and --to)") from exc
    if aggs["first"]["value"] is None:
        return None
    end = date.fromisoformat(aggs["last"]["value_as_string"]) + timedelta(days=1)
    return aggs["first"]["value_as_string"], end.isoformat()


def docs_dashboards(objects: list[dict], docs_title: str) -> list[dict]:
    """Dashboards with a panel that reads the data view titled ``docs_title`` (the documents)."""
    by_key = {(item["type"], item["id"]): item for item in objects}
    views = {item["id"] for item in objects
             if item["type"] == "index-pattern" and item["attributes"].get("title") == docs_title}

    def reads_docs(item: dict) -> bool:
        return any(ref["type"] == "index-pattern" and ref["id"] in views for ref in item.get("references", []))

    return [item for item in objects if item["type"] == "dashboard" and any(
        reads_docs(by_key.get((ref["type"], ref["id"]), {})) for ref in item.get("references", []))]


def set_time_range(dashboards: list[dict], start: str, end: str) -> None:
    """Save ``start``..``end`` with each dashboard, so it opens on that range."""
    for dashboard in dashboards:
        dashboard["attributes"].update(timeRestore=True, timeFrom=start, timeTo=end)
