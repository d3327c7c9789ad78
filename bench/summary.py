"""`make bench`'s closing table: each benchmark's headline figures beside its baseline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main(path: str) -> int:
    table = Table(title="make bench: headline figures (each benchmark's own table has the rest)")
    for column in ("benchmark", "measured", "result", "baseline, same run", "result vs baseline"):
        table.add_column(column)
    results = Path(path)
    lines = results.read_text(encoding="utf-8").splitlines() if results.exists() else []
    for line in lines:
        table.add_row(*json.loads(line))
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
