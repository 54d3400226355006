"""The bench's final table: every figure of every cell that ran, beside its target and
PASS/MISS, with the machine's state around the cell (load average before it, the share of
the machine other processes took during it), as one Markdown table ready to paste into
README.md's Performance section and the closing note. Formats only: the cell modules
measure and hand their rows over through add(); bench.py prints the table at the end."""

import re

from bench_lib import out

COLUMNS = ("cell", "figure", "tpcd", "nginx", "ratio", "target", "result", "load before",
           "others")

_rows = []		# one dict per row, in the order the cells ran


def add(cell, figure, tpcd, nginx="", ratio="", target="", result="", state=None):
    """One figure of one cell. state is the cell's Others (load and others' share); only the
    cell's first row shows it, so that a cell reads as one block."""
    first = not _rows or _rows[-1]["_cell"] != cell
    load = others = ""
    if state is not None and first:
        load = "%.1f" % state.load
        sh = state.share()
        others = "%.0f %%%s" % (sh * 100, " (perturbed)" if sh > 0.05 else "")
    _rows.append({"cell": cell if first else "", "figure": figure, "tpcd": tpcd,
                  "nginx": nginx, "ratio": ratio, "target": target, "result": result,
                  "load before": load, "others": others, "_cell": cell})


def md(text):
    """The README's typography: 0.65x -> 0.65×, 2 x 4 -> 2 × 4, 6.1ms -> 6.1 ms, us -> µs,
    >= -> ≥, <= -> ≤, -> -> →; a | would end the cell."""
    text = str(text).replace("|", "/").replace(">= ", "≥ ").replace("<= ", "≤ ")
    text = text.replace("->", "→").replace("us/req", "µs/req").replace(" x ", " × ")
    text = re.sub(r"(\d)x\b", "\\1×", text)
    return re.sub(r"(\d)(ms|us)\b", lambda m: m.group(1) + " " +
                  ("µs" if m.group(2) == "us" else "ms"), text)


def print_table(summary):
    """The table, then the one-line summaries (serving cells passed, what was not run)."""
    if not _rows:
        return
    out("")
    out("Final table (Markdown; every cell that ran, its figures and targets; load = the "
        "1-minute load average before the cell, others = CPU other processes took during "
        "it, % of the machine)")
    out("")
    out("| " + " | ".join(COLUMNS) + " |")
    out("|" + "---|" * len(COLUMNS))
    for r in _rows:
        out("| " + " | ".join(md(r[c]) for c in COLUMNS) + " |")
    out("")
    for line in summary:
        out(line)
    misses = [r for r in _rows if r["result"].startswith("MISS")]
    not_run = [r for r in _rows if r["result"].startswith("NOT RUN")]
    out("targets: %d figures with a target, %d PASS, %d MISS%s" % (
        sum(1 for r in _rows if r["result"] in ("PASS", "MISS")),
        sum(1 for r in _rows if r["result"] == "PASS"), len(misses),
        (", %d not run" % len(not_run)) if not_run else ""))
