"""Export the account graph of a detection: GEXF and GraphML for Gephi, CSV edges, JSON."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, BinaryIO, TextIO

from detector.store.schema import AccountScoreRow, CampaignMemberRow, TieRow

if TYPE_CHECKING:  # networkx is imported where a graph is built or written (cib's start-up)
    import networkx as nx

FORMATS = ("gexf", "graphml", "csv", "json")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def node_id(platform: str, account_id: str) -> str:
    return f"{platform}:{account_id}"


def build_graph(ties: Iterable[TieRow], scores: Iterable[AccountScoreRow],
                members: Iterable[CampaignMemberRow]) -> nx.Graph:
    """Accounts as nodes (score, flagged, campaign), significant ties as weighted edges."""
    import networkx as nx

    graph = nx.Graph()
    for s in scores:
        graph.add_node(node_id(s.platform, s.account_id), kind="account", platform=s.platform,
                       account_id=s.account_id, score=s.score, flagged=bool(s.flagged),
                       campaign=s.campaign_id or "")
    campaigns: dict[str, list[str]] = {}
    for m in members:
        campaigns.setdefault(node_id(m.platform, m.account_id), []).append(m.campaign_id)
    for node, ids in campaigns.items():
        if node in graph:
            graph.nodes[node]["campaigns"] = ",".join(ids)
    for t in ties:
        graph.add_edge(node_id(t.platform_a, t.account_a), node_id(t.platform_b, t.account_b),
                       weight=t.weight, contents=t.contents, signals=t.signals)
    return graph


def write_csv_edges(graph: nx.Graph, out: TextIO) -> None:
    """``source, target, weight, contents, signals``: one row per tie."""
    writer = csv.writer(out)
    writer.writerow(("source", "target", "weight", "contents", "signals"))
    for a, b, d in sorted(graph.edges(data=True)):
        writer.writerow([spreadsheet_safe(v) for v in (a, b, d["weight"], d["contents"], d["signals"])])


def write_graph(graph: nx.Graph, fmt: str, out: BinaryIO) -> None:
    """Write ``graph`` as ``fmt`` (one of ``FORMATS``) to a binary file object."""
    import networkx as nx

    if fmt == "gexf":
        nx.write_gexf(graph, out)
    elif fmt == "graphml":
        nx.write_graphml(graph, out)
    elif fmt == "json":
        out.write(json.dumps(nx.node_link_data(graph, edges="edges"), indent=1).encode())
    elif fmt == "csv":
        import io

        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        write_csv_edges(graph, text)
        text.flush()
        text.detach()
    else:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
