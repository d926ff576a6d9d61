"""How a red-team fixture (tests/tooling/redteam/) plants its attack in a submission folder.

A helper of the test process only: the fixtures' ``plant(tree)`` call it, nothing of it is
copied into the submission.
"""

from pathlib import Path


def append_to_layers(tree: Path, code: str) -> None:
    """Append ``code`` to the submission's assignment/layers.py (it runs at import)."""
    layers = tree / "assignment" / "layers.py"
    layers.write_text(layers.read_text() + code)
