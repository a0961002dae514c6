"""`govaudit check --refetch`: a fresh fetch of only what one check needs, as a new one-site run that keeps
the original run's as-of date and assessment year, so both answers are judged the same way."""

from __future__ import annotations

from checks.base import CheckSpec
from govaudit.pipeline import create_run, execute_run, run_crawl_settings
from govaudit.sites import SiteSpec
from storage import Store
from storage import models as m


def refetch_for_check(store: Store, base_run_id: int, site_id: str, spec: CheckSpec) -> int:
    with store.session() as s:
        base = s.get(m.Run, base_run_id)
        rs = s.get(m.RunSite, (base_run_id, site_id))
        if rs is None:
            raise LookupError(f"site {site_id!r} is not part of run {base_run_id}")
        site = SiteSpec(site_id=rs.site_id, name=rs.name, unit_type=rs.unit_type, url=rs.url,
                        rubric=rs.rubric or "", category=rs.category, options=dict(rs.options or {}))
        as_of, year = base.as_of, base.assessment_year
    crawl_settings = run_crawl_settings(store, base_run_id)
    run_id = create_run(store, [site], as_of=as_of, assessment_year=year, kind="refetch",
                        settings={"refetch_for": spec.id, "scope": sorted(spec.needs), "base_run": base_run_id,
                                  "crawl_settings": crawl_settings})
    execute_run(store, run_id, check=False, scope=frozenset(spec.needs))
    return run_id
