"""Red-team fixture (INSTRUCTOR ONLY), issue 11 attack 10: a false zero. The correct
solution with functions' ``__name__`` changed (and a module constant emptied), which used
to make the hidden tests' node ids vanish. Its code is correct: it must earn every hidden-test
point."""

from pathlib import Path

from tests.tooling.planting import append_to_layers

ATTACK = "the correct code with renamed __name__s: no hidden test may vanish"
EARNS = "hidden tests"   # every item with hidden tests at full points

REPO = Path(__file__).resolve().parents[3]
CODE = '''

softmax_loss.__name__ = "renamed_loss"
batchnorm_forward.__name__ = batchnorm_forward.__qualname__ = "bn"
'''


def plant(tree):
    for path in (tree / "assignment").glob("*.py"):
        path.write_text((REPO / "assignment" / path.name).read_text())
    append_to_layers(tree, CODE)
