"""What a circularity report's steps announce, for the features above the supply chain.

The notifications feature subscribes (:mod:`monitoring.notifications.subscribers`) and tells the
contract's buyer of a filed report, and its supplier of the buyer's decision. The receivers run in
the operation's transaction (see :mod:`monitoring.core.hooks`).
"""

from __future__ import annotations

from monitoring.core.hooks import Hook

report_filed = Hook(
    "circularity_report_filed",
    "A supplier filed a circularity report, or corrected one: ``send(report=CircularityReport, "
    "resubmitted=bool)``, after the flush.",
)
report_decided = Hook(
    "circularity_report_decided",
    "The buyer (or a coordinator) confirmed or queried a circularity report: ``send(report="
    "CircularityReport)``, after the flush; a queried report holds the reason.",
)
