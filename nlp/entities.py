"""Entities: known names from the alias table, unknown organisations from suffix rules.

Works on the words of the shared jieba segmentation (no second pass): the Tagger adds Chinese
aliases to the jieba dictionary, so a word lookup finds them; Latin-script aliases and English
rule patterns are regular expressions over the text. Alias matches win over overlapping rule matches.
This module is the tagging pass: the tables it reads are built in ``nlp.entity_tables`` (unknown names
are canonicalised by its ``NameNormaliser``), names paired in parentheses are linked by ``nlp.entity_pairs``.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from typing import Sequence

from nlp.entity_tables import (NameNormaliser, business_name_pattern, compile_patterns, dictionary_names,
                               final_character_heads, is_cjk, latin_regex, name_like, patterns_by_trigger, split_list,
                               triggered)
from nlp.entity_pairs import ParenthesisPairs
from nlp.regex import trie_regex
from nlp.resources import Alias
from nlp.segmentation import Entity, Segmentation

# Tags jieba gives to proper names: places, organisations, people, other proper nouns, English.
_PROPER_TAGS = frozenset({"ns", "nt", "nz", "nr", "nrt", "nrfg", "j", "eng"})
# Words around a person name that make a jieba "nr" tag believable (发言人王某表示, 王某称).
_PERSON_CUES_BEFORE = frozenset({"董事长", "总经理", "创始人", "CEO", "负责人", "发言人", "记者", "会长", "秘书长", "局长", "厅长"})
_PERSON_CUES_AFTER = frozenset({"表示", "称", "说", "认为", "指出", "透露", "介绍", "坦言", "回应"})
# A firm's name starts with a proper-looking word or one only the HMM found (most trade names).
_SELLER_START_TAGS = _PROPER_TAGS | {None}
# Single characters that are never inside a registered trade name (的 in 深圳市的明辉科技有限公司 ends it).
_NOT_IN_TRADE_NAMES = frozenset("的地得在是对向从被把给与及等将为了着过也就又")
# What a named owner's closure is said of (帕拓逊店铺被封); not accounts, which gamers have too.
_CLOSED_THINGS = frozenset({"店铺", "站点", "网店", "店"})
_CLOSING_VERBS = frozenset({"封", "关闭", "关停", "封禁", "暂停", "移除", "下架", "停权"})
_SHARE_WORDS = frozenset({"部分", "多个", "大量", "所有", "全部", "多家", "旗下"})
_REPORT_VERBS = frozenset({"称", "表示", "显示", "披露", "指出"})
# Types whose bodies have branches named after the parent (中国国际商会深圳商会).
_BRANCH_TYPES = frozenset({"association", "government"})


class EntityRecognizer:
    """Find entities in a segmented text; built once from the alias table and rules."""

    def __init__(self, aliases: Sequence[Alias], rules: dict, tags: dict[str, str], business_heads: Sequence[str] = ()):
        self._zh_alias: dict[str, Alias] = {}
        self._latin_alias: dict[str, Alias] = {}
        for alias in aliases:
            for form in alias.forms:
                (self._latin_alias if form.isascii() else self._zh_alias)[form] = alias
        self._latin_re = latin_regex(list(self._latin_alias))
        self._name_tags = frozenset(rules["zh_name_tags"])
        self._name_stopwords = frozenset(rules["zh_name_stopwords"])
        self._needs_place = frozenset(rules["zh_needs_place"])
        self._legal_heads = frozenset(rules["zh_legal_heads"])
        self._never_in_name = frozenset(rules["zh_never_in_name_tags"])
        self._generic_trade = frozenset(rules["zh_generic_trade_words"])
        self._national = frozenset(rules["zh_national_prefixes"])
        self._max_name_tokens = int(rules["max_name_tokens"])
        self._not_type = {etype: re.compile("|".join(map(re.escape, words)))
                          for etype, words in rules["not_type_words"].items()}
        after = rules["not_seller_after"]
        self._service_trades = (frozenset(after["en_trades"]), frozenset(after["en_heads"]),
                                tuple(after["zh_trades"]), tuple(after["zh_heads"]))
        self._zh_patterns = compile_patterns(rules["zh_patterns"])
        self._en_patterns = compile_patterns(rules["en_patterns"])
        if business_heads:  # (en_business_heads.txt: Redwave Outfitters, Fernwood Ceramics)
            self._en_patterns.append(business_name_pattern(rules, business_heads))
        # every trigger word of every pattern, found in one scan (a trigger may sit inside a word:
        # "Technolog" in "Technology", so no word boundaries)
        triggers = {t for rule in self._zh_patterns + self._en_patterns for t in rule[1]}
        # (factored by prefixes: a plain alternation of them cost a sixth of the entity search)
        self._triggers = re.compile(trie_regex(triggers))
        # the patterns each trigger found stands for, looked up rather than tested pattern by pattern
        self._zh_by_trigger = patterns_by_trigger(self._zh_patterns, triggers)
        self._en_by_trigger = patterns_by_trigger(self._en_patterns, triggers)
        self._en_leading = re.compile(r"^(?:(?:%s)\s+)+" % "|".join(map(re.escape, rules["en_leading_stopwords"])))
        self._en_name_stopwords = frozenset(rules["en_name_stopwords"])
        self._list_cues = frozenset(rules["zh_list_cues"])
        self._list_stopwords = frozenset(rules["zh_list_item_stopwords"])
        self._person_prefixes = tuple(rules["zh_person_prefixes"])
        self._en_not_followed = re.compile(rules["en_not_followed_by"])
        self._not_followed = {k: re.compile(v, re.I) for k, v in rules["not_followed_by"].items()}
        self._not_preceded = {k: re.compile(v, re.I) for k, v in rules["not_preceded_by"].items()}
        self._canonical = NameNormaliser(rules["legal_suffixes"])
        places = frozenset(w for w, tag in tags.items() if tag == "ns")
        # word -> (type, whole): suffix words end a name that extends to the left; "whole" words
        # are dictionary organisations (tag nt) that already start with a place, such as 美国商务部
        whole = dictionary_names(tags, places | frozenset(rules["zh_national_prefixes"]),
                                  rules["zh_dictionary_name_suffixes"], rules["zh_dictionary_name_exclude"],
                                  rules["zh_dictionary_place_name_suffixes"])
        self._heads: dict[str, tuple[str, bool]] = {
            **whole, **final_character_heads(tags, rules["zh_head_final_characters"], rules["zh_head_final_exclude"]),
            **{word: (etype, False) for word, etype in rules["zh_suffixes"].items()}}
        self._places = places
        self._pairs = ParenthesisPairs(rules, places, self._canonical, self._excluded)
        self._connectors = frozenset(rules["zh_government_connectors"])
        self._placeless_openers = frozenset(rules["zh_placeless_openers"])
        self._joining_words = self._connectors | {"联合", "会同", "联同", "、"}
        self._place_only_heads = frozenset(rules["zh_place_only_heads"])
        self._description_followers = frozenset(rules["zh_description_followers"])
        # words jieba's dictionary tags as places or people, for the untyped location/person entities
        self._place_or_person_words = places | frozenset(w for w, tag in tags.items() if tag == "nr")
        # every word any step looks for: one pass over the document's words finds them all
        self._vocabulary = frozenset(self._zh_alias) | frozenset(self._heads) | self._place_or_person_words | _CLOSED_THINGS

    def find(self, text: str, seg: Segmentation) -> list[Entity]:
        """All entity mentions in ``text``, sorted by offset, non-overlapping."""
        taken = bytearray(len(text))  # 1 where an entity already sits
        found: list[Entity] = []
        hits = seg.indices_of(self._vocabulary)

        def claim(entity: Entity) -> bool:
            if any(taken[entity.start:entity.end]):
                return False
            taken[entity.start:entity.end] = b"\x01" * (entity.end - entity.start)
            found.append(entity)
            return True

        for entity in self._aliases(text, seg, hits):
            if self._plausible(text, entity):
                claim(entity)
        longest_first = sorted(self._rule_matches(text, seg, hits, taken), key=lambda e: e.start - e.end)
        if found:
            self._yield_to_places(found, longest_first, taken)
        discovered = [e for e in longest_first if claim(e)]
        if "等" in text:
            discovered += [e for e in self._list_items(text, seg, taken) if claim(e)]
        if "被" in text or "遭" in text:
            discovered += [e for e in self._closure_owners(text, seg, hits) if claim(e)]
        if discovered:
            found = _join_branches(text, found)
            found += self._later_mentions(text, seg, discovered, found, taken)
        if "（" in text or "(" in text:
            found += self._pairs.new_pairs(text, seg, found, taken)
            found = self._pairs.paired_names(text, found, taken)
        for entity in self._people_and_places(seg, hits, taken):
            claim(entity)
        return sorted(found, key=lambda e: e.start)

    @staticmethod
    def _yield_to_places(found: list[Entity], rule_matches: list[Entity], taken: bytearray) -> None:
        """A known body's generic form inside a local body's name gives way to it: the alias 海关
        (China's customs administration) in 深圳海关 is Shenzhen Customs, a body of its own."""
        for match in rule_matches:
            inside = [e for e in found if match.start < e.start and e.end == match.end]
            if (len(inside) == 1 and inside[0].type == match.type and match.type in _BRANCH_TYPES
                    and not any(taken[match.start:inside[0].start])):
                found.remove(inside[0])
                taken[inside[0].start:inside[0].end] = bytes(inside[0].end - inside[0].start)

    def _aliases(self, text: str, seg: Segmentation, hits: list[int]):
        if self._latin_re is not None:
            for match in self._latin_re.finditer(text):
                alias = self._latin_alias[match.group()]
                yield Entity(alias.type, match.group(), match.start(), match.end(), alias.canonical, True)
        for i in hits:
            alias = self._zh_alias.get(seg.words[i])
            if alias is not None:
                yield Entity(alias.type, seg.words[i], seg.offsets[i], seg.offsets[i + 1], alias.canonical, True)

    def _plausible(self, text: str, entity: Entity) -> bool:
        """False when the context says this is not the entity (亚马逊雨林, the Amazon River)."""
        after = self._not_followed.get(entity.name)
        if after is not None and after.match(text, entity.end):
            return False
        before = self._not_preceded.get(entity.name)
        return before is None or before.search(text, max(0, entity.start - 20), entity.start) is None

    def _rule_matches(self, text: str, seg: Segmentation, hits: list[int], taken: bytearray):
        for i in hits:
            head = self._heads.get(seg.words[i])
            if head is None or (taken[seg.offsets[i]] and seg.words[i] not in self._zh_alias):
                continue  # (a head that is an alias may still end a longer local name: 深圳 海关)
            etype, whole = head
            if (etype == "seller" and seg.words[i] not in self._legal_heads
                    and seg.words[i + 1:i + 2] and seg.words[i + 1] in self._description_followers):
                continue  # 义乌饰品卖家, 深圳3C企业: a trade described, not a firm named
            start = seg.offsets[i] if whole else self._chinese_name_start(seg, i, etype, taken)
            if start is not None:
                yield from self._typed(etype, text, start, seg.offsets[i + 1])
        found = set(self._triggers.findall(text))
        for etype, _, pattern, _, is_list in triggered(self._zh_patterns, self._zh_by_trigger, found):
            for match in pattern.finditer(text):
                for start, end in (split_list(text, *match.span("name")) if is_list else [match.span("name")]):
                    yield from self._typed(etype, text, start, end)
        for etype, _, pattern, single_word, is_list in triggered(self._en_patterns, self._en_by_trigger, found):
            for match in pattern.finditer(text):
                spans = split_list(text, *match.span("name")) if is_list else [match.span("name")]
                for start, end in spans:
                    lead = self._en_leading.match(text[start:end])
                    if lead:
                        start += lead.end()
                    surface = text[start:end]
                    if single_word:
                        if len(surface) < 2 or surface.split()[0] in self._en_name_stopwords:
                            continue
                    elif end - start <= 3 or " " not in surface:
                        continue
                    if not self._en_not_followed.match(text, end):
                        yield from self._typed(etype, text, start, end)

    def _typed(self, etype: str, text: str, start: int, end: int):
        """The rule match as an Entity, unless its words say it is another kind of body (物流, 足球协会)."""
        surface = text[start:end]
        if "某" in surface:
            return  # 某大卖, 上海某美妆电商: a firm left unnamed
        if not self._excluded(etype, text, start, end):
            yield Entity(etype, surface, start, end, self._canonical(surface))

    def _excluded(self, etype: str, text: str, start: int, end: int) -> bool:
        """Do the name's words (物流, 足球协会) or, for a seller, the words right before it ("logistics firm X",
        物流服务商“X”) say that ``text[start:end]`` is another kind of body than ``etype``?"""
        words = self._not_type.get(etype)
        if words is not None and words.search(text, start, end):
            return True
        return etype == "seller" and self._serves_sellers(text[max(0, start - 40):start].rstrip(" “\"「『‘'"))

    def _serves_sellers(self, before: str) -> bool:
        """Does ``before`` end by calling what follows a firm of a trade that serves sellers (a word list
        test, not a search: it runs for every seller candidate)?"""
        en_trades, en_heads, zh_trades, zh_heads = self._service_trades
        if not before[-1:].isascii():
            if before.endswith(zh_trades):
                return True
            head = next((h for h in zh_heads if before.endswith(h)), None)
            return head is not None and before[:-len(head)].endswith(zh_trades)
        last = before.lower().split()[-3:]
        return len(last) >= 2 and last[-1] in en_heads and any(w in en_trades for w in last[:-1])

    def _chinese_name_start(self, seg: Segmentation, suffix_index: int, etype: str, taken: bytearray) -> int | None:
        """Walk back from a suffix word over name-like words; the name's start offset, or None.

        Associations and government bodies start with a place (or a national prefix: 国家,
        国务院, 行政院); firms start with a proper-looking word and must have one that is not a
        place or a generic trade word. Place names are the left edge: once the walk has passed one
        it goes on only over further places (广东省 深圳市 龙华区 商务局), never into the words
        before them. Before a legal form (有限公司) the trade name may be any content word, even a
        verb or an adjective to jieba (启航, 鼎盛, 迈步): one such word is taken, then only places.
        """
        first = suffix_index
        in_place = False
        legal = seg.words[suffix_index] in self._legal_heads
        loose_taken = False
        loose_at = -1
        while first > 0 and suffix_index - first < self._max_name_tokens:
            j = first - 1
            word, tag = seg.words[j], seg.tag(j)
            if taken[seg.offsets[j]]:
                break
            if (etype in self._needs_place and word in ("）", ")") and j >= 3 and seg.words[j - 2] in ("（", "(")
                    and seg.tag(j - 1) == "ns" and seg.tag(j - 3) == "ns"):
                first, in_place = j - 2, True  # a place in parentheses inside the name: 中国（福建）跨境电商联盟
                continue
            if etype == "government" and word in self._connectors and first < suffix_index and self._joins_fields(seg, j):
                first = j  # 人力资源和社会保障局, 商务及经济发展局, 国家发展和改革委员会
                continue
            if word in self._name_stopwords:
                break
            if etype == "seller" and self._heads.get(word, ("seller",))[0] != "seller":
                break  # another body's head (委员会 in 经济委员会审查电子商务) ends a firm's name
            if not name_like(word, tag, self._name_tags) and word not in self._generic_trade:
                if (not legal or loose_taken or in_place or not word.isalnum()
                        or (tag in self._never_in_name and not (tag == "f" and len(word) > 1))):
                    break  # (a two-character locality word may be a trade name: 厦门北岸实业有限公司)
                loose_taken = True  # the trade name before a legal form; only places may precede it
                loose_at = j
            elif loose_taken and tag != "ns" and not (tag is None and first == loose_at and is_cjk(word[0])):
                break  # (but a word only the HMM found right before it is the trade name's start: 安克 创新)
            if in_place and tag != "ns":
                break
            in_place = tag == "ns"
            first = j
        if legal and not in_place:
            first = self._place_across_characters(seg, first, taken)
        if etype in self._needs_place:
            walked = first
            while first < suffix_index and not self._starts_with_place(seg, first) and seg.words[first] not in self._national:
                first += 1
            if first == suffix_index and etype == "government":
                if seg.words[suffix_index] not in self._place_only_heads:
                    return self._placeless_government(seg, walked, suffix_index)
                if walked < suffix_index and self._beside_a_body(seg, walked):
                    return seg.offsets[walked]  # 深圳市商务局联合市场监管部门: the city's own department
        else:
            if not legal:
                while first < suffix_index and seg.tag(first) not in _SELLER_START_TAGS:
                    first += 1
            # a firm needs a trade name: 深圳市明辉科技, but not 美国科技 (巨头), 深圳电子科技 or 贸易有限公司;
            # before a legal form a place-like word will do (广域数码集团有限公司, 深圳市远洋电子商务有限公司)
            if all((seg.tag(k) == "ns" and not legal) or seg.words[k] in self._generic_trade
                   for k in range(first, suffix_index)):
                return None
        return seg.offsets[first] if first < suffix_index else None

    def _place_across_characters(self, seg: Segmentation, first: int, taken: bytearray) -> int:
        """Before a legal form, the place that begins the name across single characters jieba split
        off the trade name (宁波市 佳 和 电器有限公司, 中山市 灯 都 照明科技有限公司): the walk stops at
        such characters (和 is a conjunction, 都 an adverb), the registered name does not."""
        k = first - 1
        while k >= 0 and first - k <= 3 and len(seg.words[k]) == 1 and is_cjk(seg.words[k]) \
                and seg.words[k] not in _NOT_IN_TRADE_NAMES and not taken[seg.offsets[k]]:
            k -= 1
        if k < 0 or k == first - 1 or seg.tag(k) != "ns" or taken[seg.offsets[k]]:
            return first
        while k > 0 and seg.tag(k - 1) == "ns" and not taken[seg.offsets[k - 1]]:
            k -= 1
        return k

    def _beside_a_body(self, seg: Segmentation, first: int) -> bool:
        """Does a government body's head come right before word ``first``, joined to it by 联合, 会同, 和 …?
        A department named by its field there is that place's own (商务局联合市场监管部门), not any department."""
        return (first >= 2 and seg.words[first - 1] in self._joining_words
                and self._heads.get(seg.words[first - 2], ("",))[0] == "government")

    def _joins_fields(self, seg: Segmentation, j: int) -> bool:
        """Is the connector at ``j`` inside one body's name (a field word before it, not another body)?"""
        return j > 0 and seg.words[j - 1] not in self._heads and name_like(seg.words[j - 1], seg.tag(j - 1), self._name_tags)

    def _starts_with_place(self, seg: Segmentation, i: int) -> bool:
        """Word ``i`` is a place or begins with one (jieba glues 香港网 in 香港网商总会)."""
        word = seg.words[i]
        return seg.tag(i) == "ns" or any(word[:n] in self._places for n in range(2, len(word)))

    def _placeless_government(self, seg: Segmentation, first: int, head: int) -> int | None:
        """Start of a government body named without a place, as Taiwan, Hong Kong and national media
        write them (刑事警察局, 商务及经济发展局, 公平交易委员会, 市场监督管理局): only at the start of
        a clause or after a word that introduces a body (据, 由, 向), with field words of two
        characters or more before the head (市商务局 and 该局 are references, not names), or a head
        of four characters or more alone (工业贸易署)."""
        while first < head and seg.words[first] in self._connectors:
            first += 1
        before = seg.words[first - 1] if first else ""
        if before and is_cjk(before[-1]) and before not in self._placeless_openers:
            return None
        if first == head:
            return seg.offsets[head] if len(seg.words[head]) >= 4 else None
        if any(seg.words[k] not in self._connectors and (len(seg.words[k]) < 2 or seg.tag(k) is None)
               for k in range(first, head)):
            return None  # field words are dictionary words (刑事警察, 公平交易), not fragments the HMM glued
        return seg.offsets[first]

    def _later_mentions(self, text: str, seg: Segmentation, discovered: list[Entity], found: list[Entity],
                        taken: bytearray) -> list[Entity]:
        """Find a discovered Chinese seller again where the rules cannot: its short form, and a
        quoted name (名为“优创时代”) repeated without its quotes.

        News names a firm in full once and then by its name without the place and legal form
        (深圳市明辉科技有限公司 … 明辉科技). Within one document that short form is the same
        firm; across documents it is not (two cities may each have a 明辉科技), so the short
        form gets the full name's canonical name only here. Rule matches equal to a short form
        are renamed in place; other occurrences are added.
        """
        names: dict[str, str] = {}
        for entity in discovered:
            if entity.type == "seller" and not entity.text.isascii():
                names.setdefault(entity.text, entity.name)
                short = entity.name[_place_prefix_length(seg, entity.start, entity.end):]
                if len(short) >= 3:
                    names.setdefault(short, entity.name)
                trade_name = self._trade_name(seg, entity.start + len(entity.name) - len(short),
                                              entity.start + len(entity.name))
                if len(trade_name) >= 3:
                    names.setdefault(trade_name, entity.name)
        if not names:
            return []
        for k, entity in enumerate(found):
            full_name = names.get(entity.text, entity.name)
            if entity.type == "seller" and entity.name == entity.text and full_name != entity.name:
                found[k] = Entity("seller", entity.text, entity.start, entity.end, full_name)
        added = []
        boundaries = set(seg.offsets)  # whole words only: 明辉科技 is not inside 光明辉科技园
        for surface, name in names.items():
            at = text.find(surface)
            while at >= 0:
                end = at + len(surface)
                if at in boundaries and end in boundaries and not any(taken[at:end]):
                    taken[at:end] = b"\x01" * len(surface)
                    added.append(Entity("seller", surface, at, end, name))
                at = text.find(surface, at + len(surface))
        return added

    def _closure_owners(self, text: str, seg: Segmentation, hits: list[int]):
        """A name opening a clause (or a report: 称, 表示) whose stores or sites were closed: 帕拓逊店铺被封,
        泽宝技术的店铺被移除, X的亚马逊店铺遭关闭, 称X部分店铺被暂停, 泽宝技术被封的店铺. The name must be a word only the HMM
        found, as trade names are (现在, 涉事, 卖家 are dictionary words), possibly with its trade word
        (泽宝 技术); and a store or site was closed, not an account (gamers have those)."""
        words = seg.words
        for i in hits:
            if words[i] not in _CLOSED_THINGS:
                continue
            if words[i + 1:i + 2] in (["被"], ["遭"]):
                k = i - 1
            elif i > 3 and words[i - 1] == "的" and words[i - 2] in _CLOSING_VERBS and words[i - 3] in ("被", "遭"):
                k = i - 4  # the store named after its closure: 泽宝技术被封的店铺
            else:
                continue
            if k > 0 and words[k] in _SHARE_WORDS:
                k -= 1  # 泽宝部分店铺
            if k > 0 and words[k] == "的":
                k -= 1
            elif k > 1 and words[k - 1] == "的":
                k -= 2  # the site between: X的亚马逊店铺, X的美国站站点
            end = seg.offsets[k + 1]
            if k > 0 and words[k] in self._generic_trade:
                k -= 1  # 泽宝 技术
            if k < 0 or seg.tag(k) is not None or len(words[k]) < 2 or not is_cjk(words[k][0]):
                continue
            if k == 0 or not (is_cjk(words[k - 1][-1]) or words[k - 1].isalnum()) or words[k - 1] in _REPORT_VERBS:
                yield from self._typed("seller", text, seg.offsets[k], end)

    def _trade_name(self, seg: Segmentation, start: int, end: int) -> str:
        """The short form ``start:end`` without the trade and legal words that end it: 安克创新 of
        安克创新科技股份, the form news uses once the firm is named in full; "" if the span is not whole words."""
        first, end_index = bisect_right(seg.offsets, start) - 1, bisect_right(seg.offsets, end - 1)
        if seg.offsets[first] != start or seg.offsets[end_index] != end:
            return ""
        last = end_index
        while last > first + 1 and (seg.words[last - 1] in self._generic_trade or seg.words[last - 1] in self._heads):
            last -= 1
        return "".join(seg.words[first:last]) if last < end_index else ""

    def _list_items(self, text: str, seg: Segmentation, taken: bytearray):
        """Sellers listed before 等 + a word for firms: 帕拓逊、傲基、泽宝等知名大卖 (items already
        found, by alias or rule, stay as they are; the others become sellers named as written)."""
        words = seg.words
        for i, word in enumerate(words):
            if word != "等":
                continue
            cue = next((k for k in range(i + 1, min(i + 4, len(words))) if words[k] in self._list_cues), None)
            if (cue is None or words[cue + 1:cue + 2] in (["平台"], ["网站"], ["渠道"])
                    or any(w in ("的", "地", "地区", "城市", "省份") or "平台" in w for w in words[i + 1:cue])):
                continue  # 亚马逊、eBay等电商平台, 等多平台卖家 list platforms; 龙华、宝安等地的卖家 places
            end = i
            while end > 0:
                start = end
                while start > 0 and end - start < 3 and self._list_word(seg, start - 1, end - start):
                    start -= 1
                if start == end or all(seg.tag(k) == "n" for k in range(start, end)):
                    break
                begin, finish = seg.offsets[start], seg.offsets[end]
                surface = text[begin:finish]
                if (2 <= len(surface) <= 10 and surface not in self._list_stopwords
                        and not (surface.startswith(self._person_prefixes) and len(surface) <= 3)
                        and not any(taken[begin:finish])):
                    yield Entity("seller", surface, begin, finish, self._canonical(surface))
                if start == 0 or words[start - 1] not in ("、", "和", "与", "及", "以及"):
                    break
                end = start - 1

    def _list_word(self, seg: Segmentation, j: int, taken_words: int) -> bool:
        """Can word ``j`` be part of a list item? Proper-looking words, or a plain noun at the
        item's end (酷野 户外), which alone would not make the item a name."""
        word, tag = seg.words[j], seg.tag(j)
        if word in self._list_stopwords:
            return False
        if tag is None:
            return word.isalnum() and not word.isdigit()
        return (tag in ("nz", "nr", "nrt", "nt", "ns", "j", "eng") or (word.isascii() and word.isalnum())
                or (tag == "n" and taken_words == 0))

    def _people_and_places(self, seg: Segmentation, hits: list[int], taken: bytearray):
        words, offsets = seg.words, seg.offsets
        for i in hits:
            word, start, end = words[i], offsets[i], offsets[i + 1]
            if taken[start] or word not in self._place_or_person_words:
                continue
            tag = seg.tag(i)
            if tag == "ns" and len(word) > 1:
                yield Entity("location", word, start, end, word)
            elif tag == "nr" and 2 <= len(word) <= 3:
                before = words[i - 1] if i else ""
                after = words[i + 1] if i + 1 < len(words) else ""
                if before in _PERSON_CUES_BEFORE or after in _PERSON_CUES_AFTER:
                    yield Entity("person", word, start, end, word)


def _place_prefix_length(seg: Segmentation, start: int, end: int) -> int:
    """Characters of the place words (tag ns) that begin the span ``start:end``."""
    i = bisect_right(seg.offsets, start) - 1
    if seg.offsets[i] != start:  # a quoted name may start inside a word: no place prefix to strip
        return 0
    while i < len(seg.words) and seg.offsets[i + 1] < end and seg.tag(i) == "ns":
        i += 1
    return seg.offsets[i] - start


def _join_branches(text: str, found: list[Entity]) -> list[Entity]:
    """A body named right after its parent body of the same type is one branch name:
    中国国际商会 + 深圳商会 -> 中国国际商会深圳商会 (the Shenzhen chamber of the CCOIC)."""
    found = sorted(found, key=lambda e: e.start)
    joined: list[Entity] = []
    for entity in found:
        previous = joined[-1] if joined else None
        if (previous is not None and previous.end == entity.start and previous.type == entity.type
                and entity.type in _BRANCH_TYPES and entity.name == entity.text and not entity.text.isascii()):
            surface = text[previous.start:entity.end]
            joined[-1] = Entity(entity.type, surface, previous.start, entity.end, surface)
        else:
            joined.append(entity)
    return joined
