"""The report's pictures as PNG bytes: timelines of bursts and network pictures of campaigns.

Drawn with matplotlib's object API on one reused ``Figure`` (no pyplot: no global state, no
window, no backend to pick; saving goes through Agg). No text from posts is drawn: labels are
our own words and numbers only.
"""

from __future__ import annotations

import io
from datetime import UTC, timedelta

import matplotlib.dates as mdates
import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from detector.report.build import Node, Picture
from detector.report.timeline import UNITS, Series

DPI = 80
SEED = 1                         # the network layout is seeded: the same run draws the same picture
FLAGGED, OTHER, EVENT, BARS = "#d95f02", "#7f8c9a", "#222222", "#1b6ca8"


class Plotter:
    """Draws every picture of a report on one figure, cleared between pictures."""

    def __init__(self) -> None:
        self.figure = Figure(dpi=DPI)

    def _png(self) -> bytes:
        out = io.BytesIO()
        self.figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
        return out.getvalue()

    def timeline(self, series: Series, burst: Series | None) -> bytes:
        """Evidence posts per bin over the campaign's span; below it, per minute around the
        busiest minute when the span is drawn per hour or per day."""
        self.figure.clear()
        height = 4.6 if burst else 2.5
        self.figure.set_size_inches(8, height)
        # fixed margins: the constrained layout engine took half of the drawing time
        self.figure.subplots_adjust(left=0.08, right=0.98, bottom=0.5 / height, top=1 - 0.3 / height,
                                    hspace=0.8 / 2.0)
        axes = self.figure.subplots(2 if burst else 1, squeeze=False)[:, 0]
        _stairs(axes[0], series, f"evidence posts per {series.unit} (UTC)")
        if burst is not None:
            _stairs(axes[1], burst, "the busiest hour, per minute (UTC)")
        return self._png()

    def network(self, picture: Picture) -> bytes:
        """Accounts as dots (orange: flagged for review; size: score), ties or events as lines."""
        self.figure.clear()
        self.figure.set_size_inches(5.5, 5.5)
        ax = self.figure.add_axes((0.02, 0.02, 0.96, 0.86))
        ax.set_axis_off()
        positions = _layout(picture)
        _draw_edges(ax, picture, positions)
        _draw_nodes(ax, picture, positions)
        ax.margins(0.06)          # whole dots at the edges
        title = "accounts and their\nsignificant ties" if picture.kind == "ties" else \
            "accounts and the bursts\nthey took part in"
        if picture.accounts_shown < picture.accounts_total:
            title += f"\n({picture.accounts_shown} highest scores of {picture.accounts_total})"
        self.figure.text(0.02, 0.98, title, fontsize=10, va="top")
        if picture.nodes:
            self.figure.legend(loc="upper right", fontsize=8, frameon=False, markerscale=0.8,
                               borderaxespad=0.3)
        return self._png()


def _edges_of(series: Series) -> np.ndarray:
    step = timedelta(seconds=UNITS[series.unit])
    return np.array(mdates.date2num([*series.starts, series.starts[-1] + step]))  # type: ignore[no-untyped-call]


def _title(ax: Axes, title: str) -> None:
    # a plain text, not ax.set_title: placing a title measures every tick label (a fifth of the time)
    ax.text(0.0, 1.04, title, fontsize=10, transform=ax.transAxes)


def _stairs(ax: Axes, series: Series, title: str) -> None:
    _title(ax, title)
    if not series.counts:
        ax.text(0.5, 0.5, "no evidence posts", ha="center", va="center", transform=ax.transAxes)
        return
    # one polygon; ax.stairs' patch costs a Bezier walk per step to find the data limits
    edges = _edges_of(series)
    counts = np.append(series.counts, series.counts[-1])
    # the outline keeps bins narrower than a pixel (an hour in a month) visible
    ax.fill_between(edges, counts, step="post", color=BARS, linewidth=0.6)
    ax.set_xlim(edges[0], edges[-1])
    locator = mdates.AutoDateLocator(tz=UTC, minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))  # type: ignore[no-untyped-call]
    ax.set_ylim(0, max(series.peak, 1) * 1.1)
    ax.set_ylabel("posts", fontsize=9)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _layout(picture: Picture) -> dict[str, np.ndarray]:
    graph = nx.Graph()
    graph.add_nodes_from(n.id for n in picture.nodes)
    graph.add_weighted_edges_from((e.source, e.target, e.weight) for e in picture.edges)
    if graph.number_of_nodes() == 0:
        return {}
    positions: dict[str, np.ndarray] = nx.spring_layout(graph, seed=SEED, iterations=50)
    return positions


def _draw_edges(ax: Axes, picture: Picture, positions: dict[str, np.ndarray]) -> None:
    if not picture.edges:
        return
    segments = [(positions[e.source], positions[e.target]) for e in picture.edges]
    alpha = 0.6 if len(segments) < 100 else 0.25 if len(segments) < 2000 else 0.12
    ax.add_collection(LineCollection(segments, colors="#999999", linewidths=0.5, alpha=alpha, zorder=1))


_STYLES = {  # group: legend label, colour, marker
    "other": ("not flagged", OTHER, "o"),
    "flagged": ("flagged for review", FLAGGED, "o"),
    "event": ("event (one burst)", EVENT, "s"),
}


def _group(node: Node) -> str:
    if node.kind == "event":
        return "event"
    return "flagged" if node.flagged else "other"


def _draw_nodes(ax: Axes, picture: Picture, positions: dict[str, np.ndarray]) -> None:
    for group, (label, color, marker) in _STYLES.items():   # events last: on top of the hub
        nodes = [n for n in picture.nodes if _group(n) == group]
        if not nodes:
            continue
        xy = np.array([positions[n.id] for n in nodes])
        sizes = [36.0 if n.kind == "event" else 8.0 + 52.0 * n.score for n in nodes]
        ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c=color, marker=marker, label=label,
                   edgecolors="white", linewidths=0.3, zorder=2)
