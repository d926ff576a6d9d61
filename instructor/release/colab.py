"""Open-in-Colab badges: ``python -m instructor release --colab-url URL``.

``URL`` is where Colab opens the student release from: the release pushed to the default
branch of a GitHub repository, as Colab names it,
``https://colab.research.google.com/github/OWNER/REPO/blob/BRANCH``. In every notebook of the
student release (``DIR/student/notebooks/``) this puts, above the title, a badge that opens
``URL/notebooks/<name>.ipynb`` in Colab, and sets ``COLAB_SOURCE`` of the set-up cell to
``https://github.com/OWNER/REPO.git``, so that on a student's first run on Colab the cell
fetches the release into their Google Drive. The notebooks keep their times (the release is
reproducible) and ``DIR/student.zip`` is written again.

:func:`add_option` adds the option to the ``release`` subcommand and :func:`badge_release`
runs after it (one line each in instructor/release/cli.py); :func:`add_badges` does the work on
a release folder.
"""

import argparse
import json
import os
import re
from pathlib import Path

from instructor.release.notebooks import write_notebook_text
from instructor.release.tree import write_zip

BADGE = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
         "({url}/notebooks/{name})")
URL_FORM = re.compile(r"^https://colab\.research\.google\.com/github/([\w.-]+)/([\w.-]+)"
                      r"/blob/[\w./-]+?/?$")
SOURCE_LINE = 'COLAB_SOURCE = ""'


def git_url(url):
    """The repository to clone for a Colab ``url`` of the form in the module docstring."""
    match = URL_FORM.match(url)
    if match is None:
        raise ValueError(f"--colab-url {url!r} is not of the form https://colab.research."
                         "google.com/github/OWNER/REPO/blob/BRANCH (push the student release "
                         "to a GitHub repository and name it so)")
    return f"https://github.com/{match[1]}/{match[2]}.git"


def add_badges(root, url):
    """Badge every notebook in ``root/notebooks`` and point its set-up cell at the release;
    returns the notebook paths changed."""
    url = url.rstrip("/")
    source = git_url(url)
    changed = []
    for path in sorted(Path(root, "notebooks").glob("*.ipynb")):
        stat = path.stat()
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = nb["cells"][0]
        if first["cell_type"] != "markdown":
            raise ValueError(f"{path}: the first cell is not the markdown title cell")
        text = "".join(first["source"])
        first["source"] = BADGE.format(url=url, name=path.name) + "\n\n" + text
        setup = [c for c in nb["cells"] if c["cell_type"] == "code"
                 and SOURCE_LINE in "".join(c["source"])]
        if len(setup) != 1:
            raise ValueError(f"{path}: expected one set-up cell with the line {SOURCE_LINE}, "
                             f"found {len(setup)}")
        cell = setup[0]
        cell["source"] = "".join(cell["source"]).replace(SOURCE_LINE,
                                                         f'COLAB_SOURCE = "{source}"')
        path.write_text(write_notebook_text(nb), encoding="utf-8")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        changed.append(path)
    return changed


def add_option(parser):
    """Add ``--colab-url`` to the ``release`` subparser (a bad URL is a usage error)."""
    parser.add_argument("--colab-url", metavar="URL", default=None, type=_checked_url,
                        help="put Open-in-Colab badges into the student notebooks, for the "
                        "release pushed to GitHub: https://colab.research.google.com/github/"
                        "OWNER/REPO/blob/BRANCH")


def _checked_url(url):
    try:
        git_url(url)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return url


def badge_release(build, url):
    """After the release command: badge the student release ``build`` (a release Build, or
    None when only the solution was built) when ``url`` is given, and zip it again."""
    if build is None or not url:
        return
    for path in add_badges(build.root, url):
        print(f"  Colab badge: {path}")
    write_zip(build.root, build.root.with_suffix(".zip"))
