"""Loading the data files under ``nlp/data/`` (dictionaries, alias table, lexicons, rates)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml
from pydantic import ValidationError

from nlp.schemas import SCHEMAS

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


def load_aliases(path: Path = DATA_DIR / "aliases.tsv", simplify: Callable[[str], str] | None = None) -> list[Alias]:
    """Read ``aliases.tsv``: type <TAB> canonical <TAB> alias | alias ... ; '#' starts a comment line.

    ``simplify`` (the tagger's traditional -> simplified converter) adds the simplified form of
    every traditional alias: the tagger matches simplified text, so a form written either way
    in the table matches text written either way."""
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) not in (2, 3) or parts[0] not in ENTITY_TYPES or not parts[1].strip():
            raise DataError(f"{path.name}:{lineno}: expected 'type<TAB>canonical<TAB>aliases', got {line!r}")
        canonical = parts[1].strip()
        others = [a.strip() for a in parts[2].split("|")] if len(parts) == 3 else []
        forms = [canonical, *filter(None, others)]
        if simplify is not None:
            forms += [simplify(form) for form in forms]
        forms = tuple(dict.fromkeys(forms))
        entries.append(Alias(canonical, parts[0], forms))
    return entries


def load_yaml(name: str) -> dict:
    """A YAML file under ``nlp/data``, validated by its schema in ``nlp.schemas`` (a bad key or
    value is a one-line ``DataError`` naming the file and the key)."""
    path = DATA_DIR / name
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise DataError(f"{name}: not valid YAML: {' '.join(str(exc).split())}") from None
    return validate(name, data)


def validate(name: str, data: object) -> dict:
    """``data`` checked against the schema of data file ``name``; a plain dict with defaults filled in."""
    schema = SCHEMAS[name]
    try:
        return schema.model_validate(data).model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise DataError(f"{name}: {where}: {first['msg']}{more}") from None


def load_rates(path: Path = DATA_DIR / "rates.json") -> dict[str, float]:
    """CNY per unit of each currency (fixed table, see its ``_doc``)."""
    return {code: float(rate) for code, rate in json.loads(path.read_text(encoding="utf-8"))["to_cny"].items()}


def load_word_list(path: Path) -> list[str]:
    """One word per line; blank lines and '#' comments skipped."""
    return [w.strip() for w in path.read_text(encoding="utf-8").splitlines()
            if w.strip() and not w.lstrip().startswith("#")]
