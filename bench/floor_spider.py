"""The floor: a plain Scrapy crawl of the same platforms, no checks, no storage, same concurrency.

It follows every same-host link from each unit's home page (the dupefilter keeps each URL once) and
downloads the PDFs; bodies are dropped. Run in a process of its own so its CPU and peak RSS are its own:

    python bench/floor_spider.py BASE_URL [BASE_URL ...]    # prints one JSON line of figures
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import TextResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_seconds, peak_rss_mb  # noqa: E402

SETTINGS = {
    # the same total concurrency as govaudit's bench settings (4 sites at a time x 4 requests per site);
    # every unit is on 127.0.0.1, which Scrapy treats as one download slot, so the slot gets all 16
    "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": True, "LOG_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
    "RETRY_TIMES": 2, "DOWNLOAD_TIMEOUT": 30, "COOKIES_ENABLED": True,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
}


class FloorSpider(scrapy.Spider):
    name = "floor"

    def __init__(self, bases: list[str], **kw) -> None:
        super().__init__(**kw)
        self.bases = bases
        self.ok: set[str] = set()
        self.broken: set[str] = set()

    async def start(self):
        for b in self.bases:
            yield scrapy.Request(b + "/", callback=self.parse)

    def parse(self, response):
        if response.status >= 400:
            self.broken.add(response.url)
            return
        self.ok.add(response.url)
        if not isinstance(response, TextResponse):
            return
        host = urlsplit(response.url).netloc
        for href in response.css("a::attr(href)").getall():
            url = urljoin(response.url, href)
            if urlsplit(url).netloc == host:
                yield scrapy.Request(url, callback=self.parse, errback=self.failed)

    def failed(self, failure):
        self.broken.add(failure.request.url)


def main(bases: list[str]) -> dict:
    process = CrawlerProcess({**SETTINGS, "HTTPERROR_ALLOW_ALL": True})
    crawler = process.create_crawler(FloorSpider)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    process.crawl(crawler, bases=bases)
    process.start()
    wall = time.perf_counter() - t0
    spider = crawler.spider
    stats = crawler.stats.get_stats()
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu_seconds() - cpu0, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
            "pages_ok": len(spider.ok), "broken": sorted(spider.broken),
            "bytes": int(stats.get("downloader/response_bytes", 0)),
            "requests": int(stats.get("downloader/request_count", 0))}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
