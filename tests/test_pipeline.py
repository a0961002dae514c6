import datetime as dt

from govaudit.pipeline import create_run, mark_network_suspect, run_site_statuses
from govaudit.sites import SiteSpec
from storage import models as m
from storage.evidence import load_evidence


def _site(site_id: str, rubric: str) -> SiteSpec:
    return SiteSpec(site_id=site_id, name="青山县人民政府", unit_type="county", url="http://127.0.0.11/",
                    rubric=rubric, options={"render": "auto"})


def test_create_run_snapshots_the_rubrics_check_parameters(store) -> None:
    run_id = create_run(store, [_site("a", "langfang-2020-county"), _site("b", "no-such-rubric")],
                        as_of=dt.date(2026, 11, 20))
    with store.session() as s:
        ev = load_evidence(s, run_id, "a")
        other = load_evidence(s, run_id, "b")
        run = s.get(m.Run, run_id)
    assert ev.site.options["check_params"] == {"interpretation": {"late_working_days": 5}}
    assert other.site.options["check_params"] == {}
    assert run.assessment_year == 2026 and run_site_statuses(store, run_id) == {"a": "pending", "b": "pending"}


def test_every_site_failing_at_once_is_our_network(store) -> None:
    run_id = create_run(store, [_site("a", "r"), _site("b", "r")], as_of=dt.date(2026, 11, 20))
    assert mark_network_suspect(store, run_id, {"a": "unreachable", "b": "failed"})
    with store.session() as s:
        assert all(rs.stats["network_suspect"] for rs in s.query(m.RunSite))
        assert "网络" in s.get(m.Run, run_id).message
    # resumed, the sites answer: the verdict and its message go
    assert not mark_network_suspect(store, run_id, {"a": "unreachable", "b": "crawled"})
    with store.session() as s:
        assert not any(rs.stats["network_suspect"] for rs in s.query(m.RunSite))
        assert s.get(m.Run, run_id).message is None
