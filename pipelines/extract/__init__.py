"""Extraction stage: raw page bytes to article and forum-post documents.

Public API: ``extract_page`` (one page to the interface dict),
``ExtractMiddleware`` (the Scrapy spider middleware), ``ExtractError``;
``python -m pipelines.extract`` is the JSON Lines command-line interface.
"""
from pipelines.extract.page import ExtractConfig, ExtractError, extract_page
from pipelines.extract.middleware import ExtractMiddleware

__all__ = ["ExtractConfig", "ExtractError", "ExtractMiddleware", "extract_page"]
