"""Scrapy settings for banwave, grouped by prefix like Scrapy's default_settings.

Environment-specific values are not read here: ``config.py`` validates the
environment into a ``config.Env``, which reaches every component as the
``BANWAVE_ENV`` setting (see ``config.crawl_settings``); everything else is a
plain constant with one comment each.
"""

# --- environment (config.py; README "Configuration") ------------------------------
BANWAVE_ENV = None                          # the validated environment (config.Env): set by banwave's entry
                                            # points; under `scrapy crawl` the spider reads it (config.settings_with_env)

# --- project -------------------------------------------------------------------
BOT_NAME = "banwave"
SPIDER_MODULES = ["crawlers"]               # `scrapy list` finds the spiders here
NEWSPIDER_MODULE = "crawlers"

# --- politeness ----------------------------------------------------------------
USER_AGENT = "banwave/0.1 (+https://github.com/banwave/banwave; store-closure wave monitor)"
ROBOTSTXT_OBEY = True                       # never fetch what a site's robots.txt disallows
AUTOTHROTTLE_ENABLED = True                 # pace each site by its response times
AUTOTHROTTLE_START_DELAY = 5.0              # delay per site until its latency is known
AUTOTHROTTLE_MAX_DELAY = 60.0               # slowest pace for a struggling site
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0       # aim for about one request in flight per site
CONCURRENT_REQUESTS = 16                    # all sites of one crawl together
CONCURRENT_REQUESTS_PER_DOMAIN = 2          # hard cap per site, whatever AutoThrottle computes
DOWNLOAD_DELAY = 1.0                        # minimum seconds between requests to a site (AutoThrottle's floor)
RETRY_ENABLED = True                        # transient failures get more attempts
RETRY_TIMES = 2                             # up to three attempts per request
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]  # 429 too: the site asked us to slow down
RETRY_GIVE_UP_LOG_LEVEL = "INFO"            # the spider's errback logs the final failure once, as a warning
BANWAVE_RETRY_BACKOFF_BASE = 2.0            # seconds before the first retry, doubled for each further one
BANWAVE_RETRY_BACKOFF_MAX = 60.0            # longest wait before a retry, a larger Retry-After included

# --- crawl state, limits and error accounting (crawlers/; docs/crawling.md) -----
BANWAVE_RESUME = True                       # job dir per source under the data dir: a killed crawl resumes
DUPEFILTER_CLASS = "crawlers.state.RunDupeFilter"  # in-run duplicates only; the SeenStore skips across runs
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024          # bigger responses are abandoned (banwave/errors/too_large)
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024         # log responses above this size
DOWNLOAD_TIMEOUT = 30                       # seconds; after the retries counted as banwave/errors/timeout
REDIRECT_MAX_TIMES = 5                      # longer redirect chains are given up
DOWNLOADER_MIDDLEWARES = {
    "crawlers.guard.DestinationGuard": 50,                       # before robots.txt: no request to private addresses or other ports
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,  # replaced: it let waiters after the first through
    "crawlers.robots.RobotsTxtMiddleware": 100,                  # robots.txt for every request waiting for it (crawlers/robots.py)
    "crawlers.middlewares.IncrementalMiddleware": 650,           # skips fetched pages; sees 3xx before RedirectMiddleware
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,  # replaced by the backoff variant below
    "crawlers.middlewares.BackoffRetryMiddleware": 550,          # Scrapy's retry slot, with waits between attempts
}
SPIDER_MIDDLEWARES = {
    "crawlers.middlewares.MarkSeenMiddleware": 10,   # outermost: marks pages seen once their documents are handed on
    "pipelines.extract.ExtractMiddleware": 500,      # RAW PAGE items -> DOCUMENT items (extraction's component)
}

# --- safety and logging (crawlers/; docs/crawling.md "Safety") ------------------
TELNETCONSOLE_ENABLED = False               # no telnet console into a running crawl (it logged its password at INFO)
REMOTE_CONTROL_ENABLED = False              # no remote-control HTTP server either
LOG_FORMATTER = "crawlers.logformatter.ConciseLogFormatter"  # a failed or dropped item is named, not printed whole

DOWNLOAD_HANDLERS = {                       # Scrapy's HTTP/1.1 handler, cancelling downloads in flight on SIGTERM;
    "http": "crawlers.politeness.PoliteDownloadHandler",   # with BANWAVE_REDIS_URL each download also waits
    "https": "crawlers.politeness.PoliteDownloadHandler",  # for its site's slot shared by all workers
}

# --- distributed crawling (crawlers/frontier.py, politeness.py, cli/worker.py; docs/scaling.md) ------
# Only with BANWAVE_REDIS_URL: then `banwave worker` processes share one Redis frontier; without it
# every crawl runs in one process with the scheduler, job dir and SQLite state above.
FRONTIER_SCHEDULER = "crawlers.frontier.FrontierScheduler"  # Scrapy's SCHEDULER when BANWAVE_REDIS_URL is set
FRONTIER_LEASE_SECONDS = 30.0               # a dead worker's taken requests are served again this long after its last heartbeat
FRONTIER_POLL_SECONDS = 0.5                 # how often a worker looks for new requests, run seeds and dead workers
FRONTIER_IDLE_CLOSE_SECONDS = 10.0          # a worker closes its crawl of a source after the source's queue was empty this long
FRONTIER_SLOT_LEASE_SECONDS = 120.0         # a politeness slot held by a worker that died frees itself after this long

# --- reactor and encoding ------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"              # keep Chinese readable in exported feeds

# --- extraction (pipelines/extract, pipelines/clean; see docs/extraction.md) ---
EXTRACT_ENABLED = True                      # False: ExtractMiddleware raises NotConfigured, raw pages pass through
EXTRACT_MIN_CHARS = 50                      # article text shorter than this is page chrome: dropped as boilerplate
EXTRACT_MIN_POST_CHARS = 1                  # forum posts shorter than this are dropped ("顶" is still a post)
EXTRACT_FALLBACK = True                     # Readability's block may replace trafilatura's text or give the posts (rules: docs/extraction.md)
EXTRACT_FALLBACK_TABLE_SHARE = 0.3          # ... only when this share of trafilatura's text is layout-table rows
EXTRACT_FALLBACK_CONTAINMENT = 0.8          # ... and this share of Readability's tokens lies inside trafilatura's text
EXTRACT_FALLBACK_MIN_RATIO = 0.2            # ... and Readability's text has at least this share of trafilatura's tokens
EXTRACT_DEFAULT_TZ = "Asia/Shanghai"        # zone of dates without an offset where a source names no `timezone`
EXTRACT_CJK_RATIO = 0.3                     # share of CJK among letters from which a text is tagged "zh"
CLEAN_ENABLED = True                        # False: CleanPipeline raises NotConfigured
CLEAN_TITLE_MAX_CHARS = 200                 # longer titles are cut with an ellipsis

# --- scheduler (scheduler.py, `banwave schedule`; see docs/scheduling.md) --------
# banwave's own SCHEDULER_* names; Scrapy's SCHEDULER / SCHEDULER_*_QUEUE are its request queue.
SCHEDULER_CRAWL_TIMEOUT = 3 * 3600          # seconds a crawl may run before its process group is killed
SCHEDULER_KILL_GRACE = 30                   # seconds between SIGTERM and SIGKILL (compose allows 60 to stop)
SCHEDULER_MISFIRE_GRACE_TIME = 3600         # a run missed while down still starts if at most this late
SCHEDULER_MAX_CRAWLS = 4                    # crawl subprocesses running at once, all sources together
SCHEDULER_TIMEZONE = "UTC"                  # zone of the sources' cron lines
SCHEDULER_CRAWL_COMMAND = []                # empty: `python -m cli.main crawl`; the source name is appended

# --- item pipeline order (the whole flow; see README "Architecture") ------------
# 1. extract   pipelines.extract.ExtractMiddleware, a SPIDER middleware (SPIDER_MIDDLEWARES above):
#              one thread page fans out into many post documents, which an item pipeline cannot do
# 2. clean     normalise text, drop empty documents
# 3. NLP       entities, figures, relevance, keywords (nlp/)
# 4. dedupe    story_id for near-duplicate copies of one story
# 5. index     bulk into <prefix>-docs, spool when Elasticsearch cannot take them
ITEM_PIPELINES = {
    "pipelines.clean.CleanPipeline": 200,
    "pipelines.enrich.EnrichPipeline": 300,
    "pipelines.dedupe.DedupePipeline": 400,
    "pipelines.index.IndexPipeline": 900,
}
EXTENSIONS = {
    "pipelines.runs.RunRecorder": 500,      # one record per crawl in <prefix>-runs, after the pipelines closed
}

# --- NLP (pipelines/enrich.py, nlp/; see docs/nlp.md) ---------------------------
NLP_ENABLED = True                          # False: EnrichPipeline raises NotConfigured, no NLP fields
NLP_KEYWORDS = 10                           # keywords per document
NLP_RELEVANCE_THRESHOLD = 0.5               # `relevant` when `relevance` is at least this
NLP_DROP_IRRELEVANT = False                 # False: irrelevant documents are indexed with relevant: false
NLP_CACHE_DIR = None                        # jieba's prefix-dict cache directory (None: the system temp dir)
NLP_THREAD_CONTEXT = True                   # forum posts: relevance = max(own, opening post's), kept under the data dir

# --- dedupe (pipelines/dedupe.py; see docs/indexing.md) -------------------------
DEDUPE_ENABLED = True                       # False: DedupePipeline raises NotConfigured, no story_id
DEDUPE_THRESHOLD = 0.5                      # estimated Jaccard of jieba token sets from which two texts are one story
DEDUPE_PERMUTATIONS = 128                   # MinHash signature length (estimate's std. error ~0.044 at 0.5)
DEDUPE_BANDS = 32                           # LSH bands of 4 values: pairs at 0.67 meet with p > 0.999
DEDUPE_MIN_TOKENS = 20                      # texts with fewer distinct tokens are their own story

# --- indexing (pipelines/index.py, bulk.py, delivery.py, spool.py, runs.py) -----
INDEX_SHARDS = 1                            # primary shards of each new <prefix>-*-vN index (aim at 10-50 GB a shard; docs/scaling.md)
INDEX_REPLICAS = "0-1"                      # replicas of each new index: a number, or a range auto-expanded to the nodes ("0-1", "1-all")
INDEX_PARTITION = "none"                    # "none": one docs index; "year": <prefix>-docs-vN-<year> by timeline_at, all behind <prefix>-docs
INDEX_ENABLED = True                        # False: IndexPipeline raises NotConfigured, nothing indexed or spooled
INDEX_BATCH_DOCS = 200                      # documents per bulk request (bench/bench_index.py)
INDEX_BATCH_BYTES = 5 * 1024 * 1024         # ... or fewer, once the request body reaches this size
INDEX_FLUSH_SECONDS = 2.0                   # a partial batch is sent after this long (items wait for it)
INDEX_MAX_RETRIES = 3                       # attempts after the first for 429, 5xx and connection errors
INDEX_INITIAL_BACKOFF = 1.0                 # seconds before the first retry, doubled for each further one
INDEX_MAX_BACKOFF = 30.0                    # longest wait between retries
INDEX_DOWN_PAUSE = 30.0                     # after a batch found Elasticsearch down, spool without trying this long
INDEX_SKIP_UNCHANGED = True                 # mget content_hash first; unchanged documents are not rewritten
INDEX_REPLAY_ON_OPEN = True                 # each crawl first sends what earlier runs spooled
RUNS_ENABLED = True                         # write a run record per crawl to <prefix>-runs (spooled if ES is down)
RUNS_RUN_ID = None                          # the record's id; set by the scheduler, with its ledger in <data dir>/runs/
RUNS_FAILED_PAGES_MAX = 200                 # pages a run record lists as not fetched ("reason url"); the rest only counted

# --- waves and alerts (waves/, `banwave waves`; see docs/waves.md) --------------
WAVES_ENABLED = True                        # False: no wave tracking after crawls or on the scheduler's own schedule
WAVES_TIMEZONE = "Asia/Shanghai"            # the zone whose calendar days the counts are per
WAVES_HISTORY_DAYS = 180                    # days of history each run counts (baseline windows need ~112)
WAVES_HOURLY_DAYS = 2                       # recent days also counted per hour (`banwave waves signals`)
WAVES_MAX_SCOPES = 50                       # most-mentioned platforms and sellers followed each
WAVES_SCOPES = ["overall", "platform", "seller", "source_kind"]  # which series raise waves
WAVES_DETECTOR = "negbin"                   # negbin, cusum, ears-c1/c2/c3 or fixed (bench/bench_waves.py)
WAVES_ALPHA = 0.002                         # negbin: tail probability of an alarm (~0.5 false alerts per 90 days)
WAVES_MIN_COUNT = 3                         # documents a day needs to raise a wave: one post about a new seller never does
WAVES_QUIET_DAYS = 14                       # days without elevated counts after which a wave is over
WAVES_SUBSIDE_RATIO = 0.5                   # active -> subsiding when 3-day volume falls below this share of the peak's
WAVES_ONSET_LOOKBACK = 7                    # days before the alarm searched for the wave's onset
WAVES_ESCALATION_DOCUMENTS = [25, 100, 500] # cumulative wave documents whose passing is an "escalated" event
WAVES_INTERVAL_MINUTES = 60                 # the scheduler's own waves run (besides one after each crawl)
ALERTS_MAX_AGE_DAYS = 2                     # events older than this (a first run over old history) are recorded, not sent
ALERTS_TIMEOUT = 10.0                       # seconds per delivery attempt (HTTP or SMTP)
ALERTS_BACKOFF_BASE = 30.0                  # seconds before the first retry of a failed delivery, doubled per attempt
ALERTS_BACKOFF_MAX = 3600.0                 # longest wait between attempts; deliveries are retried until they succeed
ALERTS_LEASE_SECONDS = 300.0                # a delivery claimed by a sender that died is taken up again after this
