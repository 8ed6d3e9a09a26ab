"""The data every stage shares: a document's jieba words with their offsets, and entity mentions."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate, compress, count


@dataclass(frozen=True)
class Entity:
    """One entity mention as emitted in the interface (``as_dict``)."""

    type: str
    text: str
    start: int
    end: int
    name: str
    known: bool = False  # found through the alias table (its name is a curated canonical name)

    def as_dict(self) -> dict:
        return {"type": self.type, "text": self.text, "start": self.start, "end": self.end, "name": self.name}


class Segmentation:
    """A document's jieba words with their offsets; tags are looked up only where needed.

    Kept as parallel lists rather than one object per word: a long document has tens of
    thousands of words and building objects for them cost more than the entity search.
    """

    __slots__ = ("words", "offsets", "_tags")

    def __init__(self, words: list[str], tags: dict[str, str]):
        self.words = words
        self.offsets = list(accumulate(map(len, words), initial=0))  # word i spans offsets[i]:offsets[i+1]
        self._tags = tags

    def tag(self, i: int) -> str | None:
        """jieba's dictionary tag of word ``i``; None for words only the HMM found."""
        return self._tags.get(self.words[i])

    def indices_of(self, vocabulary) -> list[int]:
        """Indices of the words that are in ``vocabulary`` (a set or dict)."""
        # compress/map run the membership tests in C, not in a loop of bytecode
        return list(compress(count(), map(vocabulary.__contains__, self.words)))
