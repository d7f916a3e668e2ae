"""Ground-truth labels: one ``Truth`` row per account, written to and read from CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from detector.ingest.fields import FieldError, clean_id
from detector.simulate.params import TRUTH_HEADER


@dataclass(frozen=True)
class Truth:
    """The label of one account."""

    platform: str
    account_id: str
    coordinated: bool
    scenario: str          # a COORDINATED_KINDS or ORGANIC_KINDS name
    campaign: str | None   # campaign id for coordinated accounts, None for organic


class BadTruth(ValueError):
    """A truth CSV row that cannot be read; says which line and column."""


def write_truth(truth: Iterable[Truth], out: TextIO) -> None:
    """CSV with the header ``platform,account_id,coordinated,scenario,campaign``."""
    writer = csv.writer(out)
    writer.writerow(TRUTH_HEADER)
    for row in truth:
        writer.writerow((row.platform, row.account_id, "true" if row.coordinated else "false",
                         row.scenario, row.campaign or ""))


def _truth_row(cells: dict[str, str], line: int) -> Truth:
    def bad(column: str, message: str) -> BadTruth:
        return BadTruth(f"line {line}, column {column!r}: {message}")

    for column in ("platform", "scenario"):
        if not cells[column].strip():
            raise bad(column, "empty")
    try:
        account_id = clean_id(cells["account_id"])
    except FieldError as exc:
        raise bad("account_id", str(exc)) from exc
    flag = cells["coordinated"].strip().lower()
    if flag not in ("true", "false", "1", "0"):
        raise bad("coordinated", f"{cells['coordinated']!r} is not true/false")
    return Truth(cells["platform"].strip(), account_id, flag in ("true", "1"),
                 cells["scenario"].strip(), cells["campaign"].strip() or None)


def read_truth(stream: TextIO) -> list[Truth]:
    """Read ``write_truth``'s CSV; ``BadTruth`` (a ``ValueError``) names the line and column."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != list(TRUTH_HEADER):
        raise BadTruth(f"line 1: expected the header {','.join(TRUTH_HEADER)}, got {header!r}")
    rows: list[Truth] = []
    for cells in reader:
        if not cells:
            continue
        if len(cells) != len(TRUTH_HEADER):
            column = TRUTH_HEADER[min(len(cells), len(TRUTH_HEADER) - 1)]
            raise BadTruth(f"line {reader.line_num}, column {column!r}: expected "
                           f"{len(TRUTH_HEADER)} columns, got {len(cells)}")
        rows.append(_truth_row(dict(zip(TRUTH_HEADER, cells, strict=True)), reader.line_num))
    return rows
