"""The regex builders of nlp/regex.py, and the speed-ups they give the tagger's expressions: a
prefix trie or a first-character lookahead must find exactly what the plain alternation finds."""
import re
from pathlib import Path

import pytest

import config
from nlp.evaluation import load_gold
from nlp.figures import _SHARE_WORDS, _alternation
from nlp.regex import first_chars, trie_regex
from nlp.resources import load_yaml

ROOT = Path(__file__).resolve().parents[1]


def test_first_chars_of_literals_classes_and_branches():
    assert first_chars("店铺|账号") == {"店", "账"}
    assert first_chars(r"(?<![a-z])[AB]\d") == {"A", "B"}
    assert first_chars("x+y") == {"x"}
    assert first_chars(r"\w+") is None
    assert first_chars("[\u4e00-\u9fff]") is None  # too wide a range to list


def test_first_chars_looks_past_an_optional_prefix():
    assert first_chars("(?:国家|美国)?商务部") == {"国", "美", "商"}
    assert first_chars("a*b") == {"a", "b"}
    assert first_chars(r"(?:国家)?\w") is None  # what follows the optional part is not a literal set
    assert first_chars("(?:国家)?") is None  # may match the empty string: no character to look for
    assert first_chars("(?:a|)b") is None


def test_trie_regex_prefers_the_longest_word_at_a_position():
    words = ["Association", "Association of", "Assoc", "协会", "行业协会"]
    pattern = re.compile(trie_regex(words))
    assert pattern.findall("the Association of Sellers, Assoc. and 行业协会") == ["Association of", "Assoc", "行业协会"]
    assert pattern.fullmatch("Association") and not pattern.fullmatch("Associatio")


def _plain(words) -> str:
    """The reference: every word, longest first, in one alternation."""
    return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))


def _texts() -> list[str]:
    paths = [*sorted((ROOT / "tests" / "data" / "nlp").glob("*.jsonl")),
             *sorted((ROOT / "nlp" / "data" / "corpus").glob("*.jsonl")), config.evaldata_dir() / "nlp_dev.jsonl"]
    missing = [p for p in paths if not p.is_file()]
    assert not missing, f"texts not found: {missing} (set BANWAVE_EVALDATA for nlp_dev.jsonl)"
    return [g["text"] for path in paths for g in load_gold(path)]


@pytest.mark.slow  # scans about 4,000 texts with each expression twice
def test_fast_expressions_find_what_plain_alternations_find(tagger):
    """On every text of the labelled sets, the training corpus and the outside dev set: the entity
    triggers and Latin aliases as tries, and the figures' qualifier and currency words behind a
    first-character lookahead, match exactly where their plain alternations match."""
    texts = _texts()
    entities, figures = tagger.entities, tagger.figures
    triggers = {t for rule in entities._zh_patterns + entities._en_patterns for t in rule[1]}
    plain_triggers = re.compile(_plain(triggers))
    latin = entities._latin_alias
    plain_latin = re.compile(rf"(?<![A-Za-z0-9])(?:{_plain(latin)})(?![A-Za-z0-9])")
    windows = [  # (fast, plain) pairs searched in the few characters before each number
        (figures._qualifier_before_re, re.compile(figures._qualifier_before_re.pattern.replace(
            _alternation(figures._qualifier_of), _plain_bounded(figures._qualifier_of)))),
        (figures._prefix_re, re.compile(figures._prefix_re.pattern.replace(
            _alternation(figures.currency_prefix), _plain_bounded(figures.currency_prefix)))),
    ]
    for fast, plain in windows:
        assert fast.pattern != plain.pattern  # the lookahead was there to take out
    for text in texts:
        assert entities._triggers.findall(text) == plain_triggers.findall(text)
        assert [m.span() for m in entities._latin_re.finditer(text)] == [m.span() for m in plain_latin.finditer(text)]
        for number in re.finditer(r"\d+|[一二三四五六七八九十百千万亿两]+", text):
            for fast, plain in windows:
                a, b = fast.search(text, max(0, number.start() - 16), number.start()), \
                    plain.search(text, max(0, number.start() - 16), number.start())
                assert (a and a.span()) == (b and b.span())


def _plain_bounded(words) -> str:
    """The reference for ``nlp.figures._alternation``: the words longest first, a Latin letter at
    either end not touching another one."""
    parts = []
    for word in sorted(words, key=len, reverse=True):
        left = r"(?<![A-Za-z])" if word[0].isascii() and word[0].isalpha() else ""
        right = r"(?![A-Za-z])" if word[-1].isascii() and word[-1].isalpha() else ""
        parts.append(left + re.escape(word) + right)
    return "|".join(parts)


@pytest.mark.slow  # scans about 4,000 texts with each expression twice
def test_lookaheads_find_what_the_expressions_without_them_find(tagger):
    """The first-character lookaheads on each group of the relevance patterns, on each script's
    trie of a word list (the figure role cues) and before every alternative of the share words
    change only speed: on every text, the same matches as the expressions without them."""
    lexicon = load_yaml("relevance.yaml")
    groups = "|".join(f"(?P<{name}>{'|'.join(f'(?:{p})' for p in spec['patterns'])})"
                      for name, spec in lexicon["groups"].items() if spec["patterns"])
    role_of = tagger.roles._role_of
    latin = [w for w in role_of if w[0].isascii() and w[0].isalnum()]
    cues = f"{_plain(set(role_of) - set(latin))}|(?<![A-Za-z0-9])(?:{_plain(latin)})(?![A-Za-z0-9])"
    share = _SHARE_WORDS.pattern
    pairs = [(tagger.relevance.lexicon._patterns, re.compile(groups), str.lower),
             (tagger.roles._roles, re.compile(cues), str.lower),
             (_SHARE_WORDS, re.compile(share.replace("(?=[hatodm一半])", "", 1)), str)]
    texts = _texts()
    for fast, plain, prepare in pairs:
        assert fast.pattern != plain.pattern  # the lookaheads were there to take out
        for text in map(prepare, texts):
            assert [(m.span(), m.lastgroup) for m in fast.finditer(text)] == \
                [(m.span(), m.lastgroup) for m in plain.finditer(text)]
