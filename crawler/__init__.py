"""The crawler: walks each unit's disclosure platform like an assessor and stores what it saw.

Entry point for other packages: ``crawler.runner.crawl_run`` (runs Scrapy in a child process).
"""
