"""Schemas of the YAML data files under ``nlp/data/``, checked when the tagger loads them.

A misspelt key, a type that does not exist or a regular expression that does not compile is
reported as one line naming the file and the key (``nlp.resources.load_yaml``), not as a
KeyError deep inside the tagger.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

EntityType = Literal["seller", "association", "platform", "government", "media", "person", "location"]
Currency = Literal["CNY", "USD", "EUR", "GBP", "HKD", "TWD", "JPY"]
Qualifier = Literal["over", "about", "up_to", "at_least"]
Role = Literal["loss", "frozen", "fine", "sales", "valuation", "subsidy", "other"]
Counted = Literal["sellers", "stores", "accounts", "brands", "companies", "people", "products"]


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return pattern


Regex = Annotated[str, AfterValidator(_compiles)]


def _has_placeholders(pattern: str) -> str:
    if "{heads}" not in pattern or "{stop}" not in pattern:
        raise ValueError("needs the placeholders {heads} and {stop}")
    return pattern


# a pattern whose {heads} and {stop} are filled in from word lists (it compiles with them as literals)
TemplateRegex = Annotated[str, AfterValidator(_compiles), AfterValidator(_has_placeholders)]
Words = list[Annotated[str, Field(min_length=1)]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- entity_rules.yaml ---------------------------------------------------------------------

class Pattern(_Strict):
    type: EntityType
    triggers: Words = Field(min_length=1)
    pattern: Regex
    single_word: bool = False  # English: a one-word name is enough (brand cues); else two words or more
    list: bool = False  # the name group is a list ("Mpow, Aukey and RAVPower"): each item is a name

    def model_post_init(self, _context) -> None:
        if "name" not in re.compile(self.pattern).groupindex:
            raise ValueError("a pattern needs a group named 'name'")


class LegalSuffixes(_Strict):
    zh: Words
    en: Regex


class NotSellerAfter(_Strict):
    en_trades: Words
    en_heads: Words
    zh_trades: Words
    zh_heads: Words


class EntityRules(_Strict):
    zh_suffixes: dict[str, EntityType]
    zh_dictionary_name_suffixes: dict[str, EntityType]
    zh_dictionary_name_exclude: Words
    zh_dictionary_place_name_suffixes: dict[str, EntityType]
    zh_name_tags: Words
    zh_name_stopwords: Words
    zh_patterns: list[Pattern]
    zh_list_cues: Words
    zh_list_item_stopwords: Words
    zh_person_prefixes: Words
    zh_needs_place: list[EntityType]
    zh_national_prefixes: Words
    zh_legal_heads: Words
    zh_never_in_name_tags: Words
    zh_generic_trade_words: Words
    zh_head_final_characters: dict[Annotated[str, Field(min_length=1, max_length=1)], EntityType]
    zh_head_final_exclude: Words
    zh_government_connectors: Words
    zh_placeless_openers: Words
    zh_place_only_heads: Words
    zh_description_followers: Words
    max_name_tokens: int = Field(ge=1, le=12)
    not_type_words: dict[EntityType, Words]
    not_seller_after: NotSellerAfter
    legal_suffixes: LegalSuffixes
    paired_name_exclude: Regex
    en_patterns: list[Pattern]
    en_not_followed_by: Regex
    en_leading_stopwords: Words
    en_name_stopwords: Words
    en_business_name: TemplateRegex  # {heads} and {stop} filled in by nlp.entity_tables
    en_business_name_stopwords: Words
    not_followed_by: dict[str, Regex]
    not_preceded_by: dict[str, Regex]


# --- figures.yaml ----------------------------------------------------------------------------

class RoleCues(_Strict):
    zh: Words
    en: Words


class Scope(_Strict):
    industry_zh: Words
    industry_en: Words


class FigureLexicon(_Strict):
    currency_suffix: dict[str, Currency]
    currency_prefix: dict[str, Currency]
    counted: dict[str, Counted]
    measure_words: dict[str, Optional[Literal["people", "products", "needs_noun"]]]
    not_counted_en: Words
    qualifier_before: dict[Qualifier, Words]
    qualifier_after: dict[Qualifier, Words]
    qualifier_glue: Words
    roles: dict[Role, RoleCues]
    scope: Scope


# --- relevance.yaml --------------------------------------------------------------------------

class TermGroup(_Strict):
    terms: Words = []
    patterns: list[Regex] = []


class RelevanceLexicon(_Strict):
    groups: dict[Annotated[str, Field(pattern=r"^[a-z_]+$")], TermGroup]


SCHEMAS: dict[str, type[BaseModel]] = {
    "entity_rules.yaml": EntityRules,
    "figures.yaml": FigureLexicon,
    "relevance.yaml": RelevanceLexicon,
}
