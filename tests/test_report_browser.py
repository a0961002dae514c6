"""The HTML report in a real headless Chromium (Debian's /usr/bin/chromium through Playwright; never a
downloaded browser): it loads from file://, the filters work, a screenshot is taken and examined, and no
script from crawled content runs — not even if an escaping slip let it into the page (CSP)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from reports import write_reports
from tests.test_report_fixtures import HOSTILE_IMG, HOSTILE_SCRIPT, scenario

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1200, "height": 900}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    sc = scenario(tmp)
    db = sc.db
    # a unit whose very name is hostile, with a finding whose message is too
    db.site("evil", f"恶意{HOSTILE_SCRIPT}{HOSTILE_IMG}单位", "township")
    db.run_site(sc.run2, "evil")
    db.finding(sc.run2, "evil", "site_health.spam_injected", subject="/", message=HOSTILE_SCRIPT,
               evidence=HOSTILE_IMG, url="http://127.0.0.1/evil/?q=<script>window.__pwned=4</script>")
    out = write_reports(db.store, sc.run2, tmp / "out", formats={"html"})
    return sc, out["html"].parent


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport=VIEWPORT, java_script_enabled=True)
    pg = ctx.new_page()
    pg.console_messages_seen = []
    pg.on("console", lambda m: pg.console_messages_seen.append(m.text))
    pg.on("pageerror", lambda e: pg.console_messages_seen.append(f"pageerror: {e}"))
    yield pg
    ctx.close()


def open_file(page, path: Path) -> None:
    page.goto(path.as_uri())
    # the report's own script marks the document when it ran: proof it was allowed by the CSP
    page.wait_for_function("document.documentElement.dataset.reportJs === 'ready'")


def visible_findings(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all(
        "article.finding", "els => els.filter(e => !e.hidden).map(e => [e.dataset.check, e.dataset.status])")


def test_overview_loads_from_disk_and_links_to_units(page, report):
    sc, root = report
    open_file(page, root / "index.html")
    assert page.title() == f"运行 {sc.run2} 测评报告"
    assert page.locator("table.ranking tbody tr").count() == 4
    bars = page.locator("svg.chart g.bar")
    assert bars.count() >= 3
    box = page.locator("svg.chart").bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    page.get_by_role("link", name="青山镇人民政府").first.click()
    page.wait_for_function("document.documentElement.dataset.reportJs === 'ready'")
    assert page.url.endswith("/sites/qingshan/index.html")
    assert page.locator("h1").inner_text() == "青山镇人民政府"
    assert not [m for m in page.console_messages_seen if "Content Security Policy" in m or "pageerror" in m]


def test_filters_by_check_and_status(page, report):
    _, root = report
    open_file(page, root / "sites" / "qingshan" / "index.html")
    assert len(visible_findings(page)) == 7
    page.select_option("#filter-status", "fail")
    shown = visible_findings(page)
    assert len(shown) == 4 and {s for _, s in shown} == {"fail"}
    assert page.locator("#filter-count").inner_text() == "4 项"
    page.select_option("#filter-check", "guide")
    assert visible_findings(page) == [["guide", "fail"], ["guide", "fail"]]
    page.select_option("#filter-status", "pass")
    assert visible_findings(page) == [["guide", "pass"]]
    page.select_option("#filter-check", "")
    page.select_option("#filter-status", "")
    assert len(visible_findings(page)) == 7


def test_a_deduction_leads_to_its_evidence(page, report):
    sc, root = report
    open_file(page, root / "sites" / "qingshan" / "index.html")
    page.click(f"a.basis[href='#f-{sc.ids['pdf']}']")
    target = page.locator(f"#f-{sc.ids['pdf']}")
    assert page.url.endswith(f"#f-{sc.ids['pdf']}")
    assert target.is_visible()
    assert target.evaluate("el => el.matches(':target')")
    # the PDF page image and the screenshot are loaded from disk under the CSP (img-src 'self')
    # (they load lazily: bring each into view, then wait for the browser to finish decoding)
    images = page.locator("img.evidence")
    assert images.count() == 4
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('img.evidence')].every(i => i.complete)")
    widths = page.eval_on_selector_all("img.evidence", "els => els.map(e => e.naturalWidth)")
    assert widths == [1240, 320, 320, 320]


def test_screenshot_is_taken_and_not_blank(page, report):
    _, root = report
    open_file(page, root / "sites" / "qingshan" / "index.html")
    png = page.screenshot(full_page=False)
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert img.size == (VIEWPORT["width"], VIEWPORT["height"])
    small = img.resize((120, 90))
    pixels = list(small.getcolors(maxcolors=1 << 16) or [])
    assert len(pixels) > 20, "a rendered report has text and tables, not one flat colour"
    white = sum(n for n, c in pixels if min(c) > 245)
    assert white < 0.97 * 120 * 90
    # the title is rendered in the CJK font: the top band holds dark text pixels
    top = img.crop((0, 0, img.width, 120)).convert("L")
    assert top.getextrema()[0] < 80


def test_crawled_script_never_runs(page, report):
    _, root = report
    for p in (root / "index.html", root / "sites" / "qingshan" / "index.html", root / "sites" / "evil" / "index.html"):
        open_file(page, p)
        assert page.evaluate("typeof window.__pwned") == "undefined", p
    # and it is shown as text, where an auditor can read it
    assert HOSTILE_SCRIPT in page.locator("article.finding").first.inner_text()
    page.click("a.url >> nth=0")  # http link with a script in its query opens nothing of ours (new tab)
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_csp_stops_script_even_after_an_escaping_slip(page, report, tmp_path):
    _, root = report
    original = (root / "sites" / "qingshan" / "index.html").read_text(encoding="utf-8")
    # simulate a writer bug that pasted crawled HTML unescaped into the page
    slipped = original.replace('<section id="findings">',
                               f'{HOSTILE_SCRIPT}{HOSTILE_IMG}<a href="javascript:window.__pwned=5" id="js">x</a>'
                               '<section id="findings">', 1)
    bad = root / "sites" / "qingshan" / "slipped.html"
    bad.write_text(slipped, encoding="utf-8")
    open_file(page, bad)
    page.click("#js")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    blocked = [m for m in page.console_messages_seen if "Content Security Policy" in m]
    assert len(blocked) >= 2  # the inline script and the onerror handler were refused
