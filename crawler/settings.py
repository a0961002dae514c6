"""Scrapy settings of the govaudit crawler (``scrapy.cfg``: default = crawler.settings).

Every GOVAUDIT_* setting can be overridden per call through ``crawl_run(..., overrides={...})``.
Defaults are polite enough for real government platforms; tests and the demo pass faster ones.
"""

BOT_NAME = "govaudit"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- identity ----------------------------------------------------------------------------------------------
GOVAUDIT_USER_AGENT = ("Mozilla/5.0 (compatible; govaudit/0.1; government information disclosure "
                       "assessment crawler; contact: govaudit-ops@example.org)")
USER_AGENT = GOVAUDIT_USER_AGENT  # the runner copies GOVAUDIT_USER_AGENT here when it is overridden

# -- politeness --------------------------------------------------------------------------------------------
# "obey": robots.txt rules are followed and every refusal is stored as robots_disallowed;
# "ignore": robots.txt is not read (an assessor's browser does not read it either); the choice is recorded.
GOVAUDIT_ROBOTS_POLICY = "obey"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.5
RANDOMIZE_DOWNLOAD_DELAY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 15.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
# Retries only for transient trouble (timeouts, resets, 5xx, 429), with exponential backoff.
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
GOVAUDIT_RETRY_BACKOFF = 2.0  # seconds before the first retry; doubles each time
GOVAUDIT_RETRY_BACKOFF_MAX = 30.0
COOKIES_ENABLED = True
REFERER_ENABLED = True
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's RemoteControl extension starts, per crawler (here: per site), an HTTP server that runs Python
# code sent to it and writes a job file into the user's profile: no place in an assessment crawler, and its
# start-up (aiohttp) was a visible part of every site's crawl
REMOTE_CONTROL_ENABLED = False
DNS_TIMEOUT = 20
# each site is its own crawler; this many sites are crawled at once (in all, across the crawl processes)
GOVAUDIT_CONCURRENT_SITES = 4
# Scrapy runs on one core: a run of several sites is split over this many crawl processes (0: one per usable
# CPU, at most GOVAUDIT_CONCURRENT_SITES), which take the sites from one list and share the sites-at-once budget
GOVAUDIT_CRAWL_PROCESSES = 0

# -- safety limits -----------------------------------------------------------------------------------------
GOVAUDIT_MAX_DEPTH = 6  # home 0, platform 1, column lists 2, documents 3, their attachments/解读 4 ...
GOVAUDIT_MAX_PAGES = 5000  # pages fetched per site (link probes count separately)
GOVAUDIT_MAX_PROBES = 1500  # link probes per site
GOVAUDIT_MAX_SUPPRESSED_ROWS = 500  # Page rows recorded for URLs we chose not to fetch
GOVAUDIT_SITE_TIME_LIMIT = 3600  # seconds per site; the crawl of that site stops and says so
GOVAUDIT_COLUMN_CAP = 300  # newest N items kept per column list
GOVAUDIT_MAX_LIST_PAGES = 200  # list pages walked per column
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024  # also enforced after decompression (HttpCompressionMiddleware)
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
GOVAUDIT_ATTACHMENT_MAXSIZE = 50 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
METAREFRESH_ENABLED = True
DOWNLOAD_FAIL_ON_DATALOSS = True

# -- JavaScript --------------------------------------------------------------------------------------------
GOVAUDIT_RENDER = "auto"  # default when a site's options do not say (auto / never / always)
GOVAUDIT_SCREENSHOTS = True
GOVAUDIT_CHROMIUM = "/usr/bin/chromium"
# one Chromium per crawl process, shared by the sites over CDP (a context each), instead of one per site
GOVAUDIT_SHARED_BROWSER = True
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": GOVAUDIT_CHROMIUM,
    "headless": True,
    "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"],
}
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30000
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4

# -- incremental recrawl -----------------------------------------------------------------------------------
# Conditional requests from the previous run's stored ETag / Last-Modified; a 304 reuses the stored blob.
GOVAUDIT_CONDITIONAL = True
# Pages under a column whose list pages are unchanged (304 or the same bytes, same entries) are not asked for
# again: their rows are copied from the previous run — unless the evidence was last confirmed by a request this
# many days before the run's as-of date (or failed last time). 0: ask for every page (conditionally).
GOVAUDIT_REVALIDATE_DAYS = 7
# Rows are written in batches: this many records, or after this many seconds, whichever comes first
# (a kill -9 loses at most one batch; a resumed run crawls the site again anyway).
GOVAUDIT_WRITE_BATCH = 200
GOVAUDIT_WRITE_INTERVAL = 0.5

# -- plumbing ----------------------------------------------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"  # the spider claims each URL once itself
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SafetyMiddleware": 40,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.EncodingMiddleware": 560,
    "crawler.middlewares.ConditionalRequestMiddleware": 580,
    "crawler.middlewares.WireBytesMiddleware": 860,
}
SPIDER_MIDDLEWARES = {
    # non-2xx responses reach the callbacks: a 404 or 500 page is evidence with a fetch status
    "scrapy.spidermiddlewares.httperror.HttpErrorMiddleware": None,
}
ITEM_PIPELINES = {"crawler.pipelines.StorePipeline": 300}
# Scrapy's asyncio path starts CONCURRENT_ITEMS worker tasks for every callback's output (100 by default: about
# 130,000 tasks for 1,300 pages, the largest single cost in a profile of the crawl child). Our one pipeline
# writes synchronously into a batch, so parallel item processing has nothing to overlap; one keeps items in order.
CONCURRENT_ITEMS = 1
LOG_LEVEL = "INFO"
