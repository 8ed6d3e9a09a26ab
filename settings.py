"""Scrapy settings for banwave, grouped by prefix like Scrapy's default_settings.

Environment-specific values come from ``config.load()`` in the block right
below, the one visible place where the environment is read; everything else
is a plain constant with one comment each.
"""
import config

# --- environment (see config.VARIABLES and README "Configuration") -----------
ENV = config.load()

BANWAVE_ES_URL = ENV.es_url                 # empty: no Elasticsearch, items go to the spool
BANWAVE_INDEX_PREFIX = ENV.index_prefix     # <prefix>-docs and <prefix>-runs aliases
BANWAVE_DATA_DIR = str(ENV.data_dir)        # crawl state, spool, dead letters, job store
BANWAVE_SOURCES = str(ENV.sources)          # sources file the spiders are built from
LOG_LEVEL = ENV.log_level                   # Scrapy's own log level follows BANWAVE_LOG_LEVEL

# --- project -------------------------------------------------------------------
BOT_NAME = "banwave"
SPIDER_MODULES = ["crawlers"]               # `scrapy list` finds the spiders here
NEWSPIDER_MODULE = "crawlers"

# --- politeness ----------------------------------------------------------------
USER_AGENT = "banwave/0.1 (+https://github.com/banwave/banwave; store-closure wave monitor)"
ROBOTSTXT_OBEY = True                       # never fetch what a site's robots.txt disallows

# --- reactor and encoding ------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"              # keep Chinese readable in exported feeds

# --- extraction (pipelines/extract, pipelines/clean; see docs/extraction.md) ---
EXTRACT_ENABLED = True                      # False: ExtractMiddleware raises NotConfigured, raw pages pass through
EXTRACT_MIN_CHARS = 50                      # article text shorter than this is page chrome: dropped as boilerplate
EXTRACT_MIN_POST_CHARS = 1                  # forum posts shorter than this are dropped ("顶" is still a post)
EXTRACT_FALLBACK = True                     # run the text-density extractor when trafilatura returns too little
EXTRACT_FALLBACK_RATIO = 0.6                # fallback wins when trafilatura has less than this share of its text
EXTRACT_DEFAULT_TZ = "Asia/Shanghai"        # zone for dates printed without an offset
EXTRACT_CJK_RATIO = 0.3                     # share of CJK among letters from which a text is tagged "zh"
CLEAN_ENABLED = True                        # False: CleanPipeline raises NotConfigured
CLEAN_TITLE_MAX_CHARS = 200                 # longer titles are cut with an ellipsis
