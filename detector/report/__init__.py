"""The nightly report: what is new since the last one, the top campaigns with plots and evidence.

``diff`` (campaigns followed across runs), ``timeline`` and ``build`` are pure; ``plots`` draws
PNGs, ``render`` writes HTML, JSON and CSV text; ``make`` reads the store and writes the folder.
"""

from detector.report.diff import CampaignSet, Change, RunDiff, compare_runs, match_campaigns

__all__ = ["CampaignSet", "Change", "RunDiff", "compare_runs", "match_campaigns"]
