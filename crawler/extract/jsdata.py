"""Reading data that pages keep in JavaScript: ``var columnTree = [...]`` literals and function calls
such as ``createPageHTML(10, 0, "index", "shtml")``. Lenient: anything unreadable gives None."""

from __future__ import annotations

import json
import re
from typing import Any

_VAR_START = re.compile(r"(?:var|let|const|window\.)\s*([A-Za-z_$][\w$]*)\s*=\s*(?=[\[{])")


def balanced(text: str, start: int) -> str | None:
    """The bracketed literal starting at text[start] ('[' or '{'), honouring strings; None if unclosed."""
    open_ch = text[start]
    close_ch = {"[": "]", "{": "}"}[open_ch]
    depth = 0
    i = start
    quote: str | None = None
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1] if c == close_ch else None
        i += 1
    return None


def _js_to_json(lit: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(lit):
        c = lit[i]
        if c in "'\"`":
            j = i + 1
            buf: list[str] = []
            while j < len(lit) and lit[j] != c:
                if lit[j] == "\\" and j + 1 < len(lit):
                    nxt = lit[j + 1]
                    buf.append("\\" + nxt if nxt in "\"\\/bfnrtu" else ("'" if nxt == "'" else nxt))
                    j += 2
                    continue
                buf.append('\\"' if lit[j] == '"' else lit[j])
                j += 1
            out.append('"' + "".join(buf) + '"')
            i = j + 1
            continue
        if lit.startswith("//", i):  # line comment
            j = lit.find("\n", i)
            i = len(lit) if j < 0 else j
            continue
        if lit.startswith("/*", i):
            j = lit.find("*/", i + 2)
            i = len(lit) if j < 0 else j + 2
            continue
        out.append(c)
        i += 1
    s = "".join(out)
    s = re.sub(r"([{,]\s*)([A-Za-z_$][\w$]*)\s*:", r'\1"\2":', s)  # bare keys
    s = re.sub(r",\s*([\]}])", r"\1", s)  # trailing commas
    s = re.sub(r"\bundefined\b", "null", s)
    return s


def parse_literal(lit: str) -> Any | None:
    for candidate in (lit, _js_to_json(lit)):
        try:
            return json.loads(candidate)
        except (json.JSONDecodeError, ValueError):
            continue
    return None


def js_vars(source: str, name_pattern: re.Pattern[str] | None = None) -> dict[str, Any]:
    """Every ``var name = <array/object literal>`` in the source whose name matches, parsed."""
    out: dict[str, Any] = {}
    for m in _VAR_START.finditer(source):
        name = m.group(1)
        if name_pattern and not name_pattern.search(name):
            continue
        lit = balanced(source, m.end())
        if lit is None:
            continue
        val = parse_literal(lit)
        if val is not None:
            out.setdefault(name, val)
    return out


_SCALAR_VAR = re.compile(r"(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=\s*(\d+|\"[^\"]*\"|'[^']*')\s*;?")


def scalar_vars(source: str) -> dict[str, str]:
    return {m.group(1): m.group(2).strip("\"'") for m in _SCALAR_VAR.finditer(source)}


def call_args(source: str, func: str) -> list[list[str]]:
    """Argument lists (as raw strings, quotes stripped) of every call ``func(...)`` in the source."""
    calls: list[list[str]] = []
    for m in re.finditer(rf"\b{re.escape(func)}\s*\(", source):
        i = m.end()
        depth = 1
        quote = None
        arg: list[str] = []
        args: list[str] = []
        while i < len(source) and depth:
            c = source[i]
            if quote:
                if c == quote:
                    quote = None
                else:
                    arg.append(c)
            elif c in "\"'":
                quote = c
            elif c == "(":
                depth += 1
                arg.append(c)
            elif c == ")":
                depth -= 1
                if depth:
                    arg.append(c)
            elif c == "," and depth == 1:
                args.append("".join(arg).strip())
                arg = []
            else:
                arg.append(c)
            i += 1
        if depth == 0:
            args.append("".join(arg).strip())
            if re.search(rf"function\s+{re.escape(func)}\s*\($", source[:m.end()]):
                continue  # the definition, not a call
            calls.append(args)
    return calls
