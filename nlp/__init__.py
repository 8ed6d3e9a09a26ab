"""Tagging store-closure news and forum posts: entities, figures, relevance and keywords.

    from nlp import Tagger, tag_record
    tagger = Tagger()                 # build once (loads jieba's dictionary)
    tagger.tag("亚马逊封号潮……")         # -> {"lang", "relevant", "relevance", "entities", "figures", "keywords"}

See docs/nlp.md for the fields and how to extend the data under nlp/data/.
"""
from nlp.tagger import Tagger, tag_record

__all__ = ["Tagger", "tag_record"]
