"""The student's own notebook, made fit to be re-run: it counts only as the assignment run.

:func:`prepare` checks a handed-in notebook against the reference notebook (the solution's,
executed) and the release's copy, and returns the notebook nbval will run:

* **The assignment's code is there.** Every *given* code cell (one whose source is the same
  in the release and in the reference notebook: the set-up, the checks, the experiments) must
  appear in the submission, in order, with the same source (blank space around it and
  ``# NBVAL_*`` lines aside).
  Cells with a solution region (they differ between the release and the reference) may
  differ, and the student may add cells. A notebook missing given cells is not the
  assignment's (a one-cell ``x = 1`` notebook): the item fails as a whole, nothing is run.
* **nbval's switches are the instructor's.** Tags (``raises-exception``, ``nbval-*``) and
  ``# NBVAL_*`` comments are removed from the student's cells; given cells get the reference
  notebook's source and tags (its ``# NBVAL_IGNORE_OUTPUT`` where output varies).
* **Outputs are required.** A given cell whose reference has outputs but whose handed-in copy
  has none fails without being compared ("run the notebook before handing it in"): a
  notebook saved without outputs proves nothing about the code.
"""

import json
import re

NBVAL_TAGS = re.compile(r"^(nbval-.*|raises-exception)$")
NBVAL_COMMENT = re.compile(r"^\s*#\s*NBVAL_\w+.*$\n?", re.MULTILINE)


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _norm(src):
    """A cell's source as compared: without ``# NBVAL_*`` lines and surrounding blanks."""
    return NBVAL_COMMENT.sub("", src).strip()


def _code(nb):
    return [c for c in nb.get("cells", []) if isinstance(c, dict)
            and c.get("cell_type") == "code"]


def given_cells(reference_nb, release_nb=None):
    """Indexes of the reference's code cells that the release ships unchanged."""
    ref = _code(reference_nb)
    if release_nb is None:
        return list(range(len(ref)))
    rel = _code(release_nb)
    if len(rel) != len(ref):
        return [i for i, c in enumerate(ref)
                if _norm(_source(c)) in {_norm(_source(r)) for r in rel}]
    return [i for i, (a, b) in enumerate(zip(ref, rel, strict=True))
            if _norm(_source(a)) == _norm(_source(b))]


def prepare(data, reference_nb, release_nb=None):
    """``(notebook bytes to run, problem, failed cells)`` for a handed-in notebook.

    ``problem`` is a sentence when the notebook cannot count at all (then nothing is run);
    ``failed cells`` maps code-cell numbers of the returned notebook to a failure message.
    """
    try:
        nb = json.loads(data)
        cells = nb["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"not a readable notebook ({type(exc).__name__})", {}
    ref_code = _code(reference_nb)
    given = given_cells(reference_nb, release_nb)
    code = _code(nb)
    matched, pos, missing = {}, 0, []
    for i in given:
        want = _norm(_source(ref_code[i]))
        j = next((j for j in range(pos, len(code)) if _norm(_source(code[j])) == want), None)
        if j is None:
            missing.append(i)
            continue
        matched[j], pos = i, j + 1
    if missing:
        first = _source(ref_code[missing[0]]).strip().splitlines()[:1]
        return None, (f"not the assignment's notebook: {len(missing)} of the {len(given)} "
                      "code cells that come with the assignment are missing or changed "
                      f"(the first: \"{(first or [''])[0][:80]}\"); hand in the notebook "
                      "you ran, with its cells as given"), {}
    failed = {}
    for j, cell in enumerate(code):
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        tags = [t for t in meta.get("tags", []) if isinstance(t, str)
                and not NBVAL_TAGS.match(t)]
        if j in matched:
            ref = ref_code[matched[j]]
            cell["source"] = _source(ref)
            tags += [t for t in ref.get("metadata", {}).get("tags", [])
                     if NBVAL_TAGS.match(t)]
            if ref.get("outputs") and not cell.get("outputs"):
                failed[j] = ("no outputs: this cell was not run before the notebook was "
                             "saved; run all cells, save, and hand in the notebook")
        else:
            cell["source"] = NBVAL_COMMENT.sub("", _source(cell))
        meta = {k: v for k, v in meta.items() if k != "nbval"}
        if tags:
            meta["tags"] = tags
        else:
            meta.pop("tags", None)
        cell["metadata"] = meta
    return json.dumps(nb).encode(), None, failed
