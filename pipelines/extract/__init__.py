"""Extraction stage: raw page bytes to article and forum-post documents.

Public API: ``extract_page`` (one page to the interface dict),
``ExtractMiddleware`` (the Scrapy spider middleware), ``ExtractConfig`` and
``ExtractError``; ``python -m pipelines.extract`` is the JSON Lines interface.

The names are resolved lazily (PEP 562) so that ``pipelines.forum`` can use
``pipelines.extract.dom`` without importing the whole stage, which imports
``pipelines.forum`` in turn.
"""
from importlib import import_module

_EXPORTS = {
    "ExtractConfig": "pipelines.extract.page",
    "ExtractError": "pipelines.extract.page",
    "extract_page": "pipelines.extract.page",
    "ExtractMiddleware": "pipelines.extract.middleware",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
