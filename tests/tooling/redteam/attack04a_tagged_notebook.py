"""Red-team fixture (INSTRUCTOR ONLY), issue 11 attack 4: own-notebook points without
running anything: every code cell tagged ``raises-exception`` and marked
``# NBVAL_IGNORE_OUTPUT``, with the stub code."""

import json

ATTACK = "own notebook with every code cell tagged raises-exception / NBVAL_IGNORE_OUTPUT"


def plant(tree):
    for path in (tree / "notebooks").glob("*.ipynb"):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                cell.setdefault("metadata", {})["tags"] = ["raises-exception",
                                                           "nbval-ignore-output"]
                src = cell["source"] if isinstance(cell["source"], str) else "".join(
                    cell["source"])
                cell["source"] = "# NBVAL_IGNORE_OUTPUT\n" + src
        path.write_text(json.dumps(nb))
