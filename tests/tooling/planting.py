"""How a red-team fixture (tests/tooling/redteam/) plants its attack in a submission folder.

Helpers of the test process only: the fixtures' ``plant(tree)`` call them, nothing of them is
copied into the submission (only the code they append).
"""

import textwrap
from pathlib import Path


def append_to_layers(tree: Path, code: str) -> None:
    """Append ``code`` to the submission's assignment/layers.py (it runs at import)."""
    layers = tree / "assignment" / "layers.py"
    layers.write_text(layers.read_text() + code)


def append_call_to_layers(tree: Path, code: str, function: str, once: str | None = None) -> None:
    """Append ``code``, which defines ``function``, to the submission's assignment/layers.py,
    and a call of ``function`` at import that ignores its errors. With ``once`` (the name of an
    environment variable), only the first process that imports it calls it, not the processes
    that it starts and that import it again."""
    call = f"try:\n    {function}()\nexcept Exception:\n    pass\n"
    if once is not None:
        call = (f"import os as _os\n\nif not _os.environ.get(\"{once}\"):\n"
                f"    _os.environ[\"{once}\"] = \"1\"\n" + textwrap.indent(call, "    "))
    append_to_layers(tree, code.rstrip("\n") + "\n\n\n" + call)
