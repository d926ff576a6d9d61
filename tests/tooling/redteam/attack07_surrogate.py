"""Red-team fixture (INSTRUCTOR ONLY), issue 11 attack 7: one bad character stops the run.
An exception message and an inline answer hold a lone surrogate (``'\\ud800'``), which
cannot be written as UTF-8."""

import json

from tests.tooling.planting import append_to_layers

ATTACK = "a lone surrogate in an exception message and in an inline answer"

CODE = '''

def dropout_forward(x, dropout_param):
    raise ValueError("bad \\\\ud800 character".encode().decode("unicode_escape"))
'''


def plant(tree):
    append_to_layers(tree, CODE)
    for nb_path in (tree / "notebooks").glob("*.ipynb"):
        nb = json.loads(nb_path.read_text())
        for cell in nb["cells"]:
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            if cell["cell_type"] == "markdown" and src.lstrip().startswith("**Your Answer:**"):
                cell["source"] = "**Your Answer:** \ud800"
        nb_path.write_text(json.dumps(nb, ensure_ascii=True))
