"""cost-report's inputs for a local lake folder, the way the CLI measures them: through the target."""

from __future__ import annotations

from datalake.config import Settings
from datalake.layout import LakeLayout
from datalake.measure.cost.report import MeasuredUsage, measure_target
from datalake.targets.local.target import LocalTarget


def measure_local(layout: LakeLayout) -> MeasuredUsage:
    return measure_target(LocalTarget(Settings(lake=layout.root)))
