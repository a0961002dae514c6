"""The state of one column-list walk (all pages of one list URL, shared by the columns that point at it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from crawler.extract.listing import Entry
from crawler.items import ColumnDone, ListedItem


@dataclass
class ColumnInfo:
    key: str
    name: str
    url: str | None
    parent_key: str | None
    level: int


@dataclass
class Walk:
    url: str
    keys: list[str]
    cap: int
    entries: list[Entry] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    visited: set[str] = field(default_factory=set)
    pages: int = 0
    total_reported: int | None = None
    capped: bool = False
    empty_note: str | None = None
    list_status: str | None = None
    unreadable: str | None = None  # why the list could not be read (needs a browser we could not use ...)
    endpoints: list[str] = field(default_factory=list)
    single_document: bool = False
    done: bool = False
    # incremental recrawl: every list page so far is what the previous run stored (304 or the same bytes);
    # while it holds, the follow-ups of the list entries wait for the walk's end, when the whole column is
    # known to be unchanged (or not)
    unchanged: bool = False
    deferred: list[tuple[list[ListedItem], str, int, str]] = field(default_factory=list)  # listed, referer, depth, column

    def entry_tuples(self) -> list[tuple[str, str | None, dt.date | None]]:
        return [(e.title, e.url, e.date) for e in self.entries]

    def take(self, entries: list[Entry]) -> list[ListedItem]:
        """Add a page's entries (newest first, as lists are ordered) until the cap; return the new ones."""
        new: list[ListedItem] = []
        for e in entries:
            ident = e.url or f"{e.title}|{e.date}"
            if ident in self.seen:
                continue
            if len(self.entries) >= self.cap:
                self.capped = True
                break
            self.seen.add(ident)
            self.entries.append(e)
            new.append(ListedItem(column_keys=list(self.keys), title=e.title, url=e.url, date=e.date,
                                  position=len(self.entries)))
        return new

    def result(self) -> ColumnDone:
        self.done = True
        dates = [e.date for e in self.entries if e.date]
        count: int | None = len(self.entries)
        if self.unreadable and not self.entries:
            count = None  # we could not see the list: unknown, not empty
        if self.list_status not in (None, "ok") and not self.entries:
            count = None
        return ColumnDone(keys=list(self.keys), item_count=count, total_reported=self.total_reported,
                          newest_date=max(dates) if dates else None, oldest_date=min(dates) if dates else None,
                          list_pages=self.pages, capped_at=self.cap if self.capped else None,
                          empty_note=self.empty_note if not self.entries else None,
                          list_status=self.list_status)
