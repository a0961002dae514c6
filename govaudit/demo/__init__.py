"""Bundled demo platforms: realistic 政府信息公开 platforms of a fictional county (青山县), generated with
deliberately injected defects recorded in a ground-truth file, and served on loopback addresses.

    from govaudit.demo import DemoPlatforms, AS_OF, ASSESSMENT_YEAR
    with DemoPlatforms(workdir) as demo:
        demo.sites_file, demo.ground_truth, demo.urls, demo.mutate(site_id, path, new_bytes)

``govaudit.demo.groundtruth.evaluate`` measures findings against the ground truth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from govaudit.demo.model import AS_OF, ASSESSMENT_YEAR

if TYPE_CHECKING:
    from govaudit.demo.server import DemoPlatforms

__all__ = ["AS_OF", "ASSESSMENT_YEAR", "DemoPlatforms"]


def __getattr__(name: str) -> Any:
    # imported on first use: the server pulls in the generator (reportlab, Pillow), which a caller that
    # only wants the dates or the evaluator should not pay for
    if name == "DemoPlatforms":
        from govaudit.demo.server import DemoPlatforms

        return DemoPlatforms
    raise AttributeError(name)
