"""Extraction stage: raw page bytes to article and forum-post documents.

One module per step: ``decode`` (bytes to text), ``dom`` (parsing and element
text), ``article`` (main text and metadata), ``forum`` (thread pages to posts),
``dates`` (date strings), ``page`` (``extract_page``, which runs them) and
``middleware`` (the Scrapy spider middleware); ``python -m pipelines.extract``
is the JSON Lines interface.
"""
from pipelines.extract.middleware import ExtractMiddleware
from pipelines.extract.page import ExtractConfig, ExtractError, extract_page

__all__ = ["ExtractConfig", "ExtractError", "ExtractMiddleware", "extract_page"]
