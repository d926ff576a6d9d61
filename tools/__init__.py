"""Command-line tools of the repository (run as ``python -m tools.<name>``).

- ``tools.run_notebooks``: the main job; executes both notebooks headless and writes
  executed notebooks, HTML and figures into ``build/``.
"""
