"""Red-team fixture (INSTRUCTOR ONLY), issue 11 attack 4: a one-cell ``x = 1`` notebook
handed in as the own notebook."""

import json

ATTACK = "own notebook replaced by a one-cell x = 1 notebook"


def plant(tree):
    for path in (tree / "notebooks").glob("*.ipynb"):
        path.write_text(json.dumps({
            "cells": [{"cell_type": "code", "execution_count": 1, "metadata": {},
                       "outputs": [], "source": "x = 1"}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
