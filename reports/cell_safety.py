"""Making crawled text safe in spreadsheets and file names.

Crawled titles and snippets are attacker-controlled: a cell starting with ``=`` (or ``+ - @``, or a tab /
carriage return that Excel strips before them) is run as a formula by spreadsheet programs (CSV/formula
injection, OWASP). Such cells get a leading apostrophe, which Excel and LibreOffice show as plain text.
"""

from __future__ import annotations

import hashlib
import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Characters XML 1.0 forbids; openpyxl refuses them (IllegalCharacterError), crawled pages do contain them.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")

# Excel's limit on one cell's text; longer crawled snippets are cut with a marker rather than refused.
EXCEL_CELL_LIMIT = 32767


class Number(str):
    """A number we formatted ourselves (points, counts): never crawled text, so never guarded; a negative
    value must stay ``-0.5`` for the spreadsheet to read it as a number."""


def neutralize_formula(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def csv_cell(value: object) -> object:
    """A CSV cell: strings are guarded against formula injection; numbers and None pass unchanged."""
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, str):
        return neutralize_formula(value)
    return value


def xlsx_cell(value: object) -> object:
    """An XLSX cell value: guarded like CSV (openpyxl stores a string starting with ``=`` as a formula),
    without XML-illegal characters, and within Excel's cell length."""
    if isinstance(value, Number):
        return float(value) if value else None
    if not isinstance(value, str):
        return value
    text = _XML_ILLEGAL.sub("\ufffd", value)
    if len(text) > EXCEL_CELL_LIMIT:
        text = text[: EXCEL_CELL_LIMIT - 10] + "…（已截断）"
    return neutralize_formula(text)


def safe_name(value: str) -> str:
    """A file/directory name for an operator-given id (``site_id``): kept as is when it is plain ASCII,
    otherwise reduced and suffixed with a short hash so two different ids never share a directory."""
    cleaned = _SAFE_NAME.sub("_", value).strip("._")[:60]
    if cleaned == value and cleaned:
        return cleaned
    digest = hashlib.sha1(value.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned or 'site'}-{digest}"
