"""Pure extraction from page text: menus, lists, pagers, documents, dates. No Scrapy, no network."""
