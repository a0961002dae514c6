import datetime as dt

from sqlalchemy import inspect

from storage import models as m
from storage import open_store
from storage.evidence import load_evidence

TABLES = {"sites", "runs", "run_sites", "pages", "columns", "column_items", "documents", "attachments",
          "links", "findings", "scores", "disputes"}


def _fill(store) -> None:
    blob = store.blobs.put("<html><title>政府信息公开指南</title></html>".encode())
    with store.session() as s:
        s.add(m.Site(site_id="s1", name="青山县人民政府", unit_type="county", url="http://127.0.0.11/", rubric="r"))
        run = m.Run(as_of=dt.date(2026, 11, 20), assessment_year=2026, tool_version="t")
        s.add(run)
        s.flush()
        s.add(m.RunSite(run_id=run.id, site_id="s1", name="青山县人民政府", unit_type="county",
                        url="http://127.0.0.11/", rubric="r", status="crawled"))
        s.flush()
        page = m.Page(run_id=run.id, site_id="s1", url="http://127.0.0.11/zn/", fetch_status="ok", sha256=blob,
                      encoding="utf-8", kind="guide")
        s.add(page)
        s.flush()
        col = m.Column(run_id=run.id, site_id="s1", name="政府信息公开指南", url="http://127.0.0.11/zn/",
                       item_count=1)
        s.add(col)
        s.flush()
        s.add(m.Document(run_id=run.id, site_id="s1", url="http://127.0.0.11/zn/1.html", kind="guide",
                         title="指南", column_id=col.id, meta={"发布日期": "2026-01-05"}, page_id=page.id))


def _roundtrip(store) -> None:
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    _fill(store)
    with store.session() as s:
        ev = load_evidence(s, 1, "s1", read_blob=store.blobs.get)
    assert ev.as_of == dt.date(2026, 11, 20) and ev.site.name == "青山县人民政府"
    assert ev.columns[0].name == "政府信息公开指南" and ev.documents[0].meta == {"发布日期": "2026-01-05"}
    assert "政府信息公开指南" in ev.text_of(ev.pages[0])


def test_sqlite_store_roundtrip(store) -> None:
    _roundtrip(store)


def test_postgresql_store_roundtrip(pg_url, tmp_path) -> None:
    _roundtrip(open_store(pg_url, tmp_path / "blobs"))


def test_migrations_are_idempotent(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    open_store(url, tmp_path / "b")
    open_store(url, tmp_path / "b")  # a second open must not fail or change anything


def test_blob_store_is_content_addressed(store) -> None:
    a = store.blobs.put(b"same")
    b = store.blobs.put(b"same")
    assert a == b and store.blobs.get(a) == b"same"
    assert list(store.blobs.iter_shas()) == [a]
