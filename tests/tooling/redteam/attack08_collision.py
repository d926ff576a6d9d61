"""Red-team fixture (INSTRUCTOR ONLY), issue 11 attack 8: ids that collide. Two
submissions whose ids map to the same file name under a lossy mapping (``coll x`` and
``coll_x``); each must get its own result."""

ATTACK = "two submission ids that a lossy file-name mapping would merge"
NAMES = ("coll x", "coll_x")


def plant(tree):
    pass   # the stubs, under two ids
