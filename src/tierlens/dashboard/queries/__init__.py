"""Every SQL the dashboard pages run, against the read-only serving snapshot: one module per
page (``queries.<page>``), shared helpers in :mod:`.base` and :mod:`.filters`.

Pages call these by reference through :func:`tierlens.dashboard.ui.q`
(``ui.q(routing_q.misroute_matrix)``). Each function takes a read-only connection first and
documents the grain of the frame it returns. The pages read what the pipeline published
(views filtered to the current model version); nothing here re-derives a metric.
"""

from tierlens.dashboard.queries.base import NotComputed, open_snapshot, snapshot
from tierlens.dashboard.queries.filters import Filters

__all__ = ["Filters", "NotComputed", "open_snapshot", "snapshot"]
