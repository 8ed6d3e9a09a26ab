"""Loading the data files under ``nlp/data/`` (dictionaries, alias table, lexicons, rates)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
ENTITY_TYPES = ("seller", "association", "platform", "government", "media", "person", "location")


class DataError(ValueError):
    """A data file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Alias:
    """A known entity: its canonical name, type, and every surface form (canonical included)."""

    canonical: str
    type: str
    forms: tuple[str, ...] = field(default=())


def load_aliases(path: Path = DATA_DIR / "aliases.tsv") -> list[Alias]:
    """Read ``aliases.tsv``: type <TAB> canonical <TAB> alias | alias ... ; '#' starts a comment line."""
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) not in (2, 3) or parts[0] not in ENTITY_TYPES or not parts[1].strip():
            raise DataError(f"{path.name}:{lineno}: expected 'type<TAB>canonical<TAB>aliases', got {line!r}")
        canonical = parts[1].strip()
        others = [a.strip() for a in parts[2].split("|")] if len(parts) == 3 else []
        forms = tuple(dict.fromkeys([canonical, *filter(None, others)]))
        entries.append(Alias(canonical, parts[0], forms))
    return entries


def load_yaml(name: str) -> dict:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_rates(path: Path = DATA_DIR / "rates.json") -> dict[str, float]:
    """CNY per unit of each currency (fixed table, see its ``_doc``)."""
    return {code: float(rate) for code, rate in json.loads(path.read_text(encoding="utf-8"))["to_cny"].items()}


def load_word_list(path: Path) -> list[str]:
    """One word per line; blank lines and '#' comments skipped."""
    return [w.strip() for w in path.read_text(encoding="utf-8").splitlines()
            if w.strip() and not w.lstrip().startswith("#")]
