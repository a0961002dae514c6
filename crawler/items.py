"""What the spider hands to the store pipeline. One ``PageRecord`` per fetched (or refused) URL carries
everything derived from that page; one ``ReusedPage`` per page copied from the previous run unasked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ColumnSpec:
    key: str  # spider-local id; the pipeline maps it to columns.id
    name: str
    url: str | None
    parent_key: str | None
    level: int
    source: str  # menu / tree / js_var / link
    position: int


@dataclass
class ColumnsFound:
    columns: list[ColumnSpec]


@dataclass
class ColumnDone:
    keys: list[str]  # columns sharing one list URL get the same outcome
    item_count: int | None
    total_reported: int | None
    newest_date: dt.date | None
    oldest_date: dt.date | None
    list_pages: int
    capped_at: int | None
    empty_note: str | None
    list_status: str | None


@dataclass
class ListedItem:
    column_keys: list[str]
    title: str
    url: str | None
    date: dt.date | None
    position: int


@dataclass
class AttachmentRow:
    url: str
    anchor_text: str | None
    ext: str | None


@dataclass
class ItemsFound:
    """List entries that came with no page of their own (a menu entry opening a file directly)."""

    listed: list[ListedItem]
    attachments: list[AttachmentRow] = field(default_factory=list)
    page_url: str | None = None  # the page that showed the entries


@dataclass
class LinkRow:
    to_url: str
    anchor_text: str | None
    internal: bool
    rendered: bool = False


@dataclass
class DocumentRow:
    kind: str
    title: str | None
    fields: dict[str, Any]  # doc_number, index_no, publisher, written_date, publish_date, ...
    meta: dict[str, str]
    body_text: str
    column_key: str | None
    rendered: bool = False


@dataclass
class PageRecord:
    url: str
    kind: str
    fetch_status: str
    final_url: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    encoding: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body: bytes | None = None  # raw body to put in the blob store
    sha256: str | None = None  # body already in the blob store (reused from an earlier run)
    title: str | None = None
    publish_date: dt.date | None = None
    column_key: str | None = None
    rendered: bool = False
    screenshot: bytes | None = None
    reused_from_run: int | None = None
    depth: int = 0
    referer: str | None = None
    error: str | None = None
    elapsed_ms: int | None = None
    wire_bytes: int = 0  # bytes that crossed the network for this page
    size: int | None = None  # set by the store pipeline once the body is in the blob store (body dropped then)
    screenshot_sha256: str | None = None  # likewise for ``screenshot``
    network: bool = True  # False when nothing was requested (trap, limit)
    document: DocumentRow | None = None
    links: list[LinkRow] = field(default_factory=list)
    links_from: str | None = None  # links belong to this page URL instead (JSON-fed boxes)
    attachments: list[AttachmentRow] = field(default_factory=list)
    listed: list[ListedItem] = field(default_factory=list)


@dataclass
class ReusedPage:
    """A page under an unchanged column that was not requested (see crawler.incremental): the store copies the
    previous run's row into this run (``reused_from_run``, same body), and for a document also the document,
    links and attachments derived from it."""

    url: str
    prev_page_id: int
    prev_run: int
    kind: str
    fetch_status: str
    column_key: str | None
    depth: int
    referer: str | None


@dataclass
class ScreenshotRecord:
    url: str
    png: bytes
