"""Bundle a submission: ``python -m assignment collect`` (or ``./collectSubmission.sh``).

Steps, each a loud error (exit status 1, a message saying what to do) when it fails:

1. every required file exists: STUDENT_CODE_FILES (the files with code to write) and NOTEBOOKS;
2. every notebook was run top to bottom: its non-empty code cells carry execution counts
   1, 2, ..., n in order (as after "Restart Kernel and Run All Cells"), and no cell has an
   error output. A notebook gets one line for how it was run ("Dropout.ipynb: 12 of 30 code
   cells not run; run all cells top to bottom") plus one per error, each cell named as
   Jupyter shows it (``In [k]``, or "the 7th code cell" before it ran) with its first line;
3. an HTML rendering of each notebook (nbconvert), and a PDF too when ``xelatex`` and
   ``pandoc`` are installed (the HTML carries the written answers either way);
4. the zip, written atomically.

Functions that still raise NotImplementedError are listed as a warning, each once (a partial
submission is allowed). A notebook that cannot run to the end yet (unfinished code) stops
collect too; ``--allow-incomplete`` turns those notebook problems into warnings, printed and
written into the zip as ``SUBMISSION_WARNINGS.txt``, so an unfinished assignment can still be
handed in.

Zip layout (read by the course's grading tool), paths relative to the repository root::

    assignment/<file>.py             every file of STUDENT_CODE_FILES
    notebooks/<Name>.ipynb           every notebook of NOTEBOOKS, as saved
    notebooks/<Name>.html            its HTML rendering
    notebooks/<Name>.pdf             only when the PDF tools are present
    SUBMISSION_WARNINGS.txt          only with --allow-incomplete and notebook problems

Python API: :func:`collect` (returns the zip path, raises :class:`CollectError`),
:func:`notebook_problems` (the run-order check for one notebook).
"""

import argparse
import json
import os
import re
import shutil
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STUDENT_CODE_FILES = (
    "assignment/layers.py",
    "assignment/layer_utils.py",
    "assignment/fc_net.py",
    "assignment/optim.py",
    "assignment/solver.py",
)
NOTEBOOKS = ("notebooks/Dropout.ipynb", "notebooks/BatchNormalization.ipynb")
DEFAULT_ZIP = "submission.zip"
_STUB_RE = re.compile(r"raise NotImplementedError\(\s*['\"]([\w.]+): not implemented yet")


class CollectError(Exception):
    """A submission that cannot be collected; the message lists every problem and the fix."""


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def cell_name(position, cell):
    """A code cell as a student finds it in Jupyter: ``In [k]`` (the label Jupyter shows next
    to a cell that ran) or its position among the code cells, then its first line (``#
    NBVAL_*`` markers skipped)."""
    count = cell.get("execution_count")
    label = f"In [{count}]" if count is not None else f"the {_ordinal(position)} code cell"
    first = next((line.strip() for line in _source(cell).splitlines()
                  if line.strip() and not line.strip().startswith("# NBVAL_")), "")
    if len(first) > 60:
        first = first[:57] + "..."
    return f"{label} (`{first}`)" if first else label


def notebook_problems(path):
    """Problems of one notebook file as a list of str (empty: run top to bottom, no errors).

    At most one line says how the notebook was run (cells not run, or the first cell run out
    of order) and one line per cell that ended in an error; cells are named as Jupyter shows
    them (``In [k]``, or their position among the code cells) with their first line.
    """
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        return [f"cannot be read as a notebook ({e})"]
    code = [(position, cell) for position, cell in enumerate(
        (c for c in nb.get("cells", []) if c.get("cell_type") == "code"), start=1)
        if _source(cell).strip()]
    problems = []
    not_run = [cell for _, cell in code if cell.get("execution_count") is None]
    if not_run:
        problems.append(f"{len(not_run)} of {len(code)} code cells not run; run all cells top "
                        "to bottom")
    else:
        for expected, (position, cell) in enumerate(code, start=1):
            if cell["execution_count"] != expected:
                problems.append(f"cells run out of order: {cell_name(position, cell)} is the "
                                f"{_ordinal(position)} code cell, expected In [{expected}]; "
                                "run all cells top to bottom")
                break
    for position, cell in code:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                value = (str(out.get("evalue", "")).strip().splitlines() or [""])[0][:200]
                problems.append(f"{cell_name(position, cell)} ended in an error: "
                                f"{out.get('ename')}: {value}")
    return problems


def _stubbed_functions(root):
    """"file: function" for every function that still raises NotImplementedError, once each."""
    found = []
    for rel in STUDENT_CODE_FILES:
        path = root / rel
        if path.exists():
            text = path.read_text(encoding="utf-8")
            names = dict.fromkeys(_STUB_RE.findall(text))  # once each, in file order
            found += [f"{rel}: {name}" for name in names]
    return found


def render(nb_path, fmt="html"):
    """A notebook file rendered by nbconvert as "html" or "pdf" (bytes); the one notebook export
    of the repository (tools/run_notebooks.py and the instructor's release use it too)."""
    import nbformat
    from nbconvert import HTMLExporter, PDFExporter

    nb = nbformat.read(nb_path, as_version=4)
    exporter = HTMLExporter() if fmt == "html" else PDFExporter()
    meta = {"path": str(Path(nb_path).parent), "name": Path(nb_path).stem}  # name: the title
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": meta})
    return body.encode("utf-8") if isinstance(body, str) else body


def pdf_tools_present():
    """True when nbconvert's PDF export can run (xelatex and pandoc on PATH)."""
    return bool(shutil.which("xelatex") and shutil.which("pandoc"))


def collect(root=REPO, out=None, *, pdf=None, allow_incomplete=False, log=print):
    """Check the submission in `root` and write the zip; returns the zip's Path.

    Inputs:
    - root: the repository folder (default: the one this package lives in)
    - out: zip path (default: root/submission.zip)
    - pdf: True/False to force/skip the PDF; None: only when pdf_tools_present()
    - allow_incomplete: notebook run-order problems become warnings (see the module docstring)
    - log: function printing progress lines

    Raises CollectError listing every problem found.
    """
    root = Path(root).resolve()
    out = Path(out) if out else root / DEFAULT_ZIP
    missing = [rel for rel in (*STUDENT_CODE_FILES, *NOTEBOOKS) if not (root / rel).is_file()]
    if missing:
        raise CollectError(
            "missing required files (restore them, e.g. from the release zip, and run again):\n"
            + "\n".join(f"  - {rel}" for rel in missing)
        )
    problems = []
    for rel in NOTEBOOKS:
        problems += [f"  - {rel}: {p}" for p in notebook_problems(root / rel)]
    if problems and not allow_incomplete:
        raise CollectError(
            "notebooks not run top to bottom (open each one, choose Kernel > Restart Kernel "
            "and Run All Cells, save, and run collect again; to hand in unfinished work, add "
            "--allow-incomplete):\n" + "\n".join(problems)
        )
    if problems:
        log("WARNING: handing in notebooks that were not run top to bottom:")
        for p in problems:
            log(p)
    stubbed = _stubbed_functions(root)
    if stubbed:
        log("WARNING: these functions are still not implemented (they will get no points):")
        for s in stubbed:
            log(f"  - {s}")
    if pdf is None:
        pdf = pdf_tools_present()
        if not pdf:
            log("PDF: skipped (xelatex and pandoc not found); the HTML files carry your answers")
    entries = {rel: (root / rel).read_bytes() for rel in (*STUDENT_CODE_FILES, *NOTEBOOKS)}
    if problems:
        entries["SUBMISSION_WARNINGS.txt"] = ("\n".join(problems) + "\n").encode("utf-8")
    for rel in NOTEBOOKS:
        formats = ("html", "pdf") if pdf else ("html",)
        for fmt in formats:
            try:
                entries[rel[: -len(".ipynb")] + f".{fmt}"] = render(root / rel, fmt)
            except Exception as e:  # noqa: BLE001 - nbconvert raises many kinds; say which
                raise CollectError(
                    f"could not render {rel} as {fmt.upper()}: {type(e).__name__}: {e}"
                ) from e
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel in sorted(entries):
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[rel])
    with zipfile.ZipFile(tmp) as zf:
        bad = zf.testzip()
    if bad is not None:
        raise CollectError(f"the zip came out corrupt at {bad}; check the disk and run again")
    os.replace(tmp, out)
    log(f"wrote {out} ({len(entries)} files):")
    for rel in sorted(entries):
        log(f"  {rel}")
    return out


def main(argv=None):
    """Command line of `python -m assignment collect`; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m assignment collect", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser):
    """The collect options (shared with assignment/__main__.py)."""
    parser.add_argument("--out", help=f"zip to write (default: <repo>/{DEFAULT_ZIP})")
    parser.add_argument("--root", default=str(REPO), help="repository folder (default: this one)")
    parser.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="hand in notebooks that do not run to the end yet (listed as warnings)",
    )


def run(args):
    """Run collect with parsed arguments; prints errors; returns the exit status."""
    try:
        collect(args.root, args.out, allow_incomplete=args.allow_incomplete)
    except CollectError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    return 0
