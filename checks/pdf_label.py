"""公开属性标识: does each sampled formal document's PDF carry its public-attribute label?

Rubric lines served (/work/shared/rubric-sources/):
- changning-2020-assessment-notice.txt, 附件2 第17项 (乡镇) and 附件3 第15项 (部门): "切实做好公文政府信息公开属性
  标识工作" — "检查各乡镇/各部门 10 份已经印发公开的正式文件附件（PDF 格式），出现未标定文件公开属性标识的，
  每份扣 0.5 分". Hence the sample (the 10 newest formal documents by default, ``ctx.params["sample"]``) and
  one finding per sampled PDF.
- The label's wordings are those printed on real documents, e.g. the changning notice's own "(此件公开发布)"
  and langfang-bazhou-2020-indicator-breakdown.txt's "（此件公开发布）"; see checks/data/pdf_label.yaml.

Only the PDF counts: the 公开方式 row of the HTML metadata table is not a label in the document (it is
compared, and a contradiction is a ``conflict``). The label is looked for on the last page (GB/T 9704 附注
position, the line after the 成文日期) and then the first page (a header), read by ``checks.pdf_text`` with
two extractors. A PDF whose text cannot be read (scanned, encrypted, corrupt, not a PDF, not downloaded)
is ``unverifiable`` with the reason, never a deduction. No OCR fallback: a scanned PDF stays unverifiable.

Codes: ``pdf_label.present`` (pass), ``pdf_label.missing``, ``pdf_label.conflict``,
``pdf_label.unverifiable`` — subject: the attachment URL subject (path + query); ``pdf_label.sample``
(site level, subject "") summarises the sample.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from checks.base import CheckContext, CheckSpec, Finding, load_data, url_subject
from checks.pdf_text import PageText, PdfLimits, PdfText, TextLine, read_pdf_text
from storage.evidence import AttachmentRec, DocumentRec, SiteEvidence

_CJK = re.compile(r"[\u3400-\u9fff]")
_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    """NFKC (full-width brackets/colons -> ASCII) and no whitespace: the wordings vary in exactly that."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


@dataclass(frozen=True)
class _Table:
    value_of: dict[str, str]  # normalised wording -> canonical value
    pattern: re.Pattern[str]
    html_keys: tuple[str, ...]
    formal_kinds: frozenset[str]
    annex: re.Pattern[str]
    written_date: re.Pattern[str]
    note_max_lines: int
    header_top_share: float
    min_cjk: int
    sample: int


@cache
def _table() -> _Table:
    data = load_data("pdf_label.yaml")
    value_of = {_norm(w): canon for canon, words in data["values"].items() for w in [canon, *words]}
    # longest first so 依申请公开 is not read as its tail 公开…, nor 不予公开 as 不公开
    words = "|".join(re.escape(w) for w in sorted(value_of, key=len, reverse=True))
    markers = "|".join(re.escape(_norm(m)) for m in data["markers"])
    fields = "|".join(re.escape(_norm(f)) for f in sorted(data["fields"], key=len, reverse=True))
    pattern = re.compile(rf"(?:(?:{markers})|(?:{fields}):?)(?P<value>{words})")
    return _Table(value_of=value_of, pattern=pattern, html_keys=tuple(data["html_meta_keys"]),
                  formal_kinds=frozenset(data["formal_kinds"]), annex=re.compile(data["annex_anchor_pattern"]),
                  written_date=re.compile(data["written_date_pattern"]),
                  note_max_lines=int(data["note_max_lines_after_date"]),
                  header_top_share=float(data["header_top_share"]), min_cjk=int(data["min_cjk_chars"]),
                  sample=int(data["sample"]))


@dataclass(frozen=True)
class LabelHit:
    value: str  # 主动公开 / 依申请公开 / 不予公开
    wording: str  # the matched text, normalised
    line: TextLine
    page: int
    position: str  # attachment_note / header / other
    extractor: str  # pdfplumber / pdfium


_POSITION_NAMES = {"attachment_note": "附注位置（成文日期下一行）", "header": "首页版头", "other": "正文其他位置"}


def find_labels(pdf: PdfText) -> list[LabelHit]:
    """Every label on the pages read, last page first; pdfplumber's lines before pdfium's."""
    t = _table()
    hits: list[LabelHit] = []
    for page in pdf.pages:
        for extractor, lines in (("pdfplumber", page.plumber_lines), ("pdfium", page.pdfium_lines)):
            found: list[LabelHit] = []
            for i, line in enumerate(lines):
                m = t.pattern.search(_norm(line.text))
                if m:
                    found.append(LabelHit(value=t.value_of[m.group("value")], wording=m.group(0), line=line,
                                          page=page.number, extractor=extractor,
                                          position=_position(page, lines, i, pdf.page_count or 1)))
            if not found:  # a label may be broken over two lines: join each line with the next
                for i in range(len(lines) - 1):
                    m = t.pattern.search(_norm(lines[i].text + lines[i + 1].text))
                    if m:
                        found.append(LabelHit(value=t.value_of[m.group("value")], wording=m.group(0),
                                              line=_merge(lines[i], lines[i + 1]), page=page.number,
                                              extractor=extractor,
                                              position=_position(page, lines, i, pdf.page_count or 1)))
                        break
            hits.extend(found)
    return _dedupe(hits)


def _merge(a: TextLine, b: TextLine) -> TextLine:
    if a.bbox is None or b.bbox is None:
        return TextLine(a.text + b.text)
    return TextLine(a.text + b.text, min(a.x0, b.x0), min(a.top, b.top), max(a.x1, b.x1),  # type: ignore[type-var]
                    max(a.bottom, b.bottom))  # type: ignore[type-var]


def _dedupe(hits: list[LabelHit]) -> list[LabelHit]:
    # the same label is usually found by both extractors (and again via the joined-lines try)
    out: list[LabelHit] = []
    seen: set[tuple[int, str, str]] = set()
    for h in hits:
        key = (h.page, h.value, h.extractor)
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out


def _position(page: PageText, lines: tuple[TextLine, ...], index: int, page_count: int) -> str:
    t = _table()
    if page.number == page_count:
        for back in range(1, t.note_max_lines + 1):
            if index - back >= 0 and t.written_date.search(_norm(lines[index - back].text)):
                return "attachment_note"
    line = lines[index]
    if page.number == 1 and page.height and line.top is not None and line.top <= page.height * t.header_top_share:
        return "header"
    return "other"


def _readable(text: str) -> bool:
    return len(_CJK.findall(text)) >= _table().min_cjk


def _html_value(doc: DocumentRec | None) -> tuple[str, str] | None:
    """The attribute the HTML metadata states (key, canonical value), if it states one we know."""
    if doc is None:
        return None
    t = _table()
    stated: list[tuple[str, Any]] = [("公开方式", doc.disclosure_mode)]
    stated += [(k, doc.meta.get(k)) for k in t.html_keys]
    for key, raw in stated:
        if not isinstance(raw, str) or not raw.strip():
            continue
        norm = _norm(raw)
        for wording in sorted(t.value_of, key=len, reverse=True):
            if norm == wording or norm.startswith(wording):
                return key, t.value_of[wording]
    return None


def _is_pdf(att: AttachmentRec) -> bool:
    ext = (att.ext or "").lower().lstrip(".")
    return ext == "pdf" or "pdf" in (att.content_type or "").lower() or urlsplit(att.url).path.lower().endswith(".pdf")


def sample_attachments(ev: SiteEvidence, size: int) -> list[tuple[DocumentRec, AttachmentRec]]:
    """The rubric's sample: the main PDF of each of the ``size`` newest formal documents."""
    t = _table()
    by_doc: dict[int, list[AttachmentRec]] = {}
    for att in ev.attachments:
        if att.document_id is not None and _is_pdf(att):
            by_doc.setdefault(att.document_id, []).append(att)
    formal = [d for d in ev.documents
              if d.id in by_doc and d.kind != "interpretation"
              and (d.kind in t.formal_kinds or (d.doc_number or "").strip())]

    def newest_first(d: DocumentRec) -> tuple[int, int, str]:
        date = d.publish_date or d.written_date
        return (0 if date else 1, -(date.toordinal() if date else 0), d.url)

    out: list[tuple[DocumentRec, AttachmentRec]] = []
    seen_urls: set[str] = set()
    for doc in sorted(formal, key=newest_first):
        pdfs = by_doc[doc.id]
        # the document itself, not its annexes (附件1 is a form or a table that carries no label)
        main = next((a for a in pdfs if not t.annex.match(a.anchor_text or "")), pdfs[0])
        if main.url in seen_urls:
            continue
        seen_urls.add(main.url)
        out.append((doc, main))
        if len(out) >= size:
            break
    return out


def _limits(params: dict[str, Any]) -> PdfLimits:
    base = PdfLimits()
    return PdfLimits(max_bytes=int(params.get("max_bytes", base.max_bytes)),
                     max_pages=int(params.get("max_pages", base.max_pages)),
                     timeout_s=float(params.get("timeout_s", base.timeout_s)),
                     max_memory_mb=int(params.get("max_memory_mb", base.max_memory_mb)))


_UNREADABLE_MESSAGES = {
    "not_downloaded": "附件未能下载",
    "blob_missing": "附件内容未保存",
    "not_pdf": "附件不是 PDF 文件",
    "too_large": "附件超出读取上限",
    "too_many_pages": "附件页数超出读取上限",
    "encrypted": "PDF 已加密，无法读取",
    "corrupt": "PDF 文件损坏，无法解析",
    "timeout": "PDF 解析超时",
    "extractor_error": "PDF 解析程序出错",
    "no_text_layer": "PDF 无文字层（疑为扫描件）",
    "unreadable_text": "PDF 文字层无法识别（字体无编码映射）",
    "last_page_no_text": "PDF 末页无文字层（疑为扫描件），无法核验附注位置",
}


def check_attachment(ev: SiteEvidence, doc: DocumentRec, att: AttachmentRec, limits: PdfLimits) -> Finding:
    subject = url_subject(att.url)
    base: dict[str, Any] = {"document_url": doc.url, "document_title": doc.title, "doc_number": doc.doc_number,
                            "publish_date": doc.publish_date.isoformat() if doc.publish_date else None}

    def unverifiable(reason: str, **extra: Any) -> Finding:
        return Finding(code="pdf_label.unverifiable", status="unverifiable", subject=subject, url=att.url,
                       severity="info", evidence_file=att.sha256,
                       message=f"{_UNREADABLE_MESSAGES[reason]}，公开属性标识待人工核验：{doc.title or att.url}",
                       details={**base, "reason": reason, **extra})

    if att.fetch_status not in (None, "ok", "not_modified_reused") or not att.sha256:
        return unverifiable("not_downloaded", fetch_status=att.fetch_status)
    try:
        data = ev.blob(att.sha256)
    except (LookupError, KeyError, OSError) as exc:
        return unverifiable("blob_missing", error=str(exc))
    pdf = read_pdf_text(data, limits, min_cjk_chars=_table().min_cjk)
    if pdf.status != "ok":
        return unverifiable(pdf.status, errors=dict(pdf.errors))

    hits = find_labels(pdf)
    html = _html_value(doc)
    if hits:
        return _judge_hits(att, doc, hits, html, base, pdf)

    last = pdf.last
    assert last is not None
    texts = [p.plumber_text + p.pdfium_text for p in pdf.pages]
    if not any(t.strip() for t in texts):
        return unverifiable("no_text_layer", errors=dict(pdf.errors), page_count=pdf.page_count)
    if not _readable(last.plumber_text) and not _readable(last.pdfium_text):
        reason = "unreadable_text" if (last.plumber_text + last.pdfium_text).strip() else "last_page_no_text"
        return unverifiable(reason, errors=dict(pdf.errors), page_count=pdf.page_count)
    tail = (last.plumber_lines if _readable(last.plumber_text) else last.pdfium_lines)[-4:]
    return Finding(code="pdf_label.missing", status="fail", subject=subject, url=att.url,
                   evidence=" / ".join(line.text for line in tail), evidence_file=att.sha256,
                   evidence_page=last.number,
                   message=f"正式文件 PDF 未标注公开属性（末页附注位置及首页均未见“此件公开发布”等标识）：{doc.title or att.url}",
                   details={**base, "pages_read": [p.number for p in pdf.pages], "page_count": pdf.page_count,
                            "html_disclosure_mode": html[1] if html else None,
                            "note": "网页元数据中的公开方式不视为文件本身的公开属性标识"})


def _judge_hits(att: AttachmentRec, doc: DocumentRec, hits: list[LabelHit], html: tuple[str, str] | None,
                base: dict[str, Any], pdf: PdfText) -> Finding:
    main = hits[0]
    values = sorted({h.value for h in hits})
    details: dict[str, Any] = {
        **base, "value": main.value, "wording": main.wording, "page": main.page, "position": main.position,
        "position_name": _POSITION_NAMES[main.position], "bbox": main.line.bbox, "extractor": main.extractor,
        "page_size": _page_size(pdf, main.page), "values_found": values,
        "html_disclosure_mode": html[1] if html else None,
    }
    common = {"subject": url_subject(att.url), "url": att.url, "evidence": main.line.text,
              "evidence_file": att.sha256, "evidence_page": main.page}
    problems: list[str] = []
    if len(values) > 1:
        problems.append(f"文件内出现相互矛盾的公开属性：{'、'.join(values)}")
    if "不予公开" in values:
        problems.append("标注为不予公开的文件却已在政府信息公开平台发布")
    if html and html[1] != main.value:
        problems.append(f"PDF 标注“{main.value}”，与网页元数据“{html[0]}：{html[1]}”不一致")
    if problems:
        return Finding(code="pdf_label.conflict", status="fail", severity="high",
                       message=f"公开属性标识冲突：{'；'.join(problems)}：{doc.title or att.url}",
                       details={**details, "problems": problems}, **common)
    return Finding(code="pdf_label.present", status="pass", severity="info",
                   message=f"PDF 已标注公开属性“{main.value}”（第 {main.page} 页，{_POSITION_NAMES[main.position]}）："
                           f"{doc.title or att.url}",
                   details=details, **common)


def _page_size(pdf: PdfText, number: int) -> list[float] | None:
    for p in pdf.pages:
        if p.number == number and p.width and p.height:
            return [round(p.width, 1), round(p.height, 1)]
    return None


def run(ctx: CheckContext) -> list[Finding]:
    ev = ctx.evidence
    size = int(ctx.params.get("sample", _table().sample))
    limits = _limits(ctx.params)
    sample = sample_attachments(ev, size)
    findings = [check_attachment(ev, doc, att, limits) for doc, att in sample]
    counts = {s: sum(1 for f in findings if f.code == f"pdf_label.{s}")
              for s in ("present", "missing", "conflict", "unverifiable")}
    if not sample:
        findings.append(Finding(code="pdf_label.sample", status="not_applicable", severity="info",
                                message="未发现带 PDF 附件的正式文件，无可抽查样本",
                                details={"sample_size": size, "sampled": 0, **counts}))
    else:
        findings.append(Finding(code="pdf_label.sample", status="pass", severity="info",
                                message=(f"抽查最新 {len(sample)} 份正式文件 PDF：已标注 {counts['present']}，"
                                         f"未标注 {counts['missing']}，冲突 {counts['conflict']}，"
                                         f"无法核验 {counts['unverifiable']}"),
                                details={"sample_size": size, "sampled": len(sample), **counts,
                                         "attachments": [url_subject(a.url) for _, a in sample]}))
    return findings


CHECK = CheckSpec(
    id="pdf_label",
    version="1.1",  # 1.1: PDFium first, pdfplumber as fallback; lines in reading order
    title="正式文件公开属性标识",
    codes=("pdf_label.present", "pdf_label.missing", "pdf_label.conflict", "pdf_label.unverifiable",
           "pdf_label.sample"),
    run=run,
    needs=frozenset({"menu", "lists", "documents", "attachments"}),
    rubric_refs=("changning-2020-township:附件2 第17项", "changning-2020-department:附件3 第15项"),
)
