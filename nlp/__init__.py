"""Tagging store-closure news and forum posts: entities, figures, relevance and keywords.

    from nlp import Tagger, tag_record
    tagger = Tagger()                 # build once (loads jieba's dictionary)
    tagger.tag("亚马逊封号潮……")         # -> {"lang", "relevant", "relevance", "entities", "figures", "keywords"}

See docs/nlp.md for the fields and how to extend the data under nlp/data/.

The names are resolved lazily (PEP 562): importing a data helper such as
``nlp.resources`` must not pull in jieba and its analysers (about half a
second), which every ``banwave`` command would otherwise pay at start-up.
"""
from importlib import import_module

_EXPORTS = {"Tagger": "nlp.tagger", "tag_record": "nlp.tagger"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
