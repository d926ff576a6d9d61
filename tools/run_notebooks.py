"""The main job: execute the notebooks headless and collect what they produce.

Usage (from the repository root):

    python -m tools.run_notebooks --out build                 # both notebooks
    python -m tools.run_notebooks --out build notebooks/Dropout.ipynb
    python -m tools.run_notebooks --in-place notebooks/Dropout.ipynb  # refresh committed outputs

Each notebook runs top to bottom in a fresh kernel of the current Python environment
(nbclient), with the notebook's own folder as working directory, exactly as nbval and
Jupyter run it. :func:`execute_notebook` is the repository's one notebook executor (the
instructor's release runs the solution notebooks with it too); the HTML rendering is
assignment/collect.py's ``render``, the one notebook export. For a notebook ``<stem>.ipynb``
the output folder receives

    <stem>.ipynb          the executed notebook (also when a cell failed: up to that cell)
    <stem>.html           an HTML rendering of it (nbconvert)
    <stem>-figNN.png      every figure, numbered in order of appearance from 01

With ``--in-place`` the executed notebook also replaces the source notebook when it
passed (this is how the committed outputs that nbval compares against are made; per-cell
timing metadata is left out to keep diffs small); a notebook that did not pass is left as it
was, and the message says so. One summary line per notebook is printed, e.g.

    Dropout.ipynb: 35 checks passed, 0 failed, 14.1 s

Checks are the verdict lines printed by assignment/notebook_checks.py (counted with
its ``count_verdicts``). Exit status: 0 when every notebook ran without a cell error
and no check failed; 1 otherwise; 2 when a notebook is missing (nothing is run).
"""

import argparse
import base64
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import ipykernel.kernelspec
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets import default

from assignment.collect import render
from assignment.notebook_checks import count_verdicts

REPO = Path(__file__).resolve().parents[1]
DEFAULT_NOTEBOOKS = (
    REPO / "notebooks" / "Dropout.ipynb",
    REPO / "notebooks" / "BatchNormalization.ipynb",
)
DEFAULT_TIMEOUT = 900  # seconds per cell; the slowest cells take a few seconds


class _CurrentEnvKernelSpecs(KernelSpecManager):
    """Kernel specs that always start ipykernel with this interpreter (sys.executable).

    A "python3" kernel spec elsewhere (e.g. in ~/.local/share/jupyter) could point to
    another Python without the requirements installed; nbval's --nbval-current-env
    does the same thing.
    """

    def get_kernel_spec(self, kernel_name):
        return self.kernel_spec_class(
            resource_dir=ipykernel.kernelspec.RESOURCES, **ipykernel.kernelspec.get_kernel_dict()
        )


class _CurrentEnvKernelManager(AsyncKernelManager):
    """A kernel manager using _CurrentEnvKernelSpecs (nbclient creates, owns and stops it)."""

    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self):
        return _CurrentEnvKernelSpecs(data_dir=self.data_dir)


@dataclass
class NotebookRun:
    """The outcome of executing one notebook.

    path: the source notebook; notebook: the executed NotebookNode (outputs filled in
    up to the failing cell, if any); passed/failed: verdict counts; error: None or
    "cell <index>: <message>"; stderr_outputs: number of stderr stream outputs;
    seconds: wall time including kernel start.
    """

    path: Path
    notebook: nbformat.NotebookNode
    passed: int = 0
    failed: int = 0
    error: str | None = None
    stderr_outputs: int = 0
    seconds: float = 0.0
    written: list[Path] = field(default_factory=list)

    @property
    def ok(self):
        return self.error is None and self.failed == 0


def _first_error(notebook):
    """Returns "cell <index>: <ename>: <evalue>" for the first error output, or None."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
    return None


def _stream_text(notebook, name):
    """All text a notebook's code cells wrote to one stream ("stdout" or "stderr")."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == name:
                parts.append(output.get("text", ""))
    return "".join(parts)


def execute_notebook(path, timeout=DEFAULT_TIMEOUT, *, env=None, record_timing=True):
    """Executes one notebook in a fresh kernel, cwd = the notebook's folder.

    Inputs:
    - path: Path of an existing .ipynb file.
    - timeout: seconds allowed per cell (int).
    - env: dict of environment variables set for the kernel on top of this process's
      (e.g. CIFAR10_DIR); None: this process's environment.
    - record_timing: keep nbclient's per-cell timing metadata (the benchmarks read it).

    Returns a NotebookRun (nothing is written to disk).
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_manager_class=_CurrentEnvKernelManager,
        kernel_name="python3",
        timeout=timeout,
        record_timing=record_timing,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    run = NotebookRun(path=path, notebook=notebook)
    start = time.perf_counter()
    try:
        client.execute(env={**os.environ, **(env or {})})
    except CellExecutionError:
        run.error = _first_error(notebook) or "a cell raised an exception"
    except CellTimeoutError:
        run.error = f"a cell ran longer than {timeout} s"
    except DeadKernelError as error:
        run.error = f"the kernel died: {error}"
    run.seconds = time.perf_counter() - start
    run.passed, run.failed = count_verdicts(_stream_text(notebook, "stdout"))
    run.stderr_outputs = sum(
        1
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    )
    return run


def write_outputs(run, out_dir):
    """Writes the executed notebook, its HTML rendering and its figures into out_dir.

    Returns the list of written paths (also stored in run.written).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = run.path.stem
    written = []

    notebook_path = out_dir / f"{stem}.ipynb"
    nbformat.write(run.notebook, notebook_path)
    written.append(notebook_path)

    html_path = out_dir / f"{stem}.html"
    html_path.write_bytes(render(notebook_path, "html"))
    written.append(html_path)

    figure_number = 0
    for cell in run.notebook.cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png is None:
                continue
            figure_number += 1
            png_path = out_dir / f"{stem}-fig{figure_number:02d}.png"
            png_path.write_bytes(base64.b64decode(png))
            written.append(png_path)

    run.written = written
    return written


def save_in_place(run):
    """Writes the executed notebook over its source, without per-cell timing metadata."""
    for cell in run.notebook.cells:
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(run.notebook, run.path)


def summary_line(run):
    """One line: '<name>: <P> checks passed, <F> failed, <S> s' plus any problem."""
    line = f"{run.path.name}: {run.passed} checks passed, {run.failed} failed, {run.seconds:.1f} s"
    if run.stderr_outputs:
        line += f", {run.stderr_outputs} stderr outputs"
    if run.error is not None:
        line += f"; ERROR in {run.error}"
    return line


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m tools.run_notebooks",
        description="Execute the notebooks headless; write executed notebooks, HTML and "
        "figures (PNG) into --out; print one summary line per notebook.",
    )
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="notebooks to run (default: notebooks/Dropout.ipynb and "
        "notebooks/BatchNormalization.ipynb)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("build"), help="output folder (default: build)"
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="also write each executed notebook over its source (refreshes the outputs "
        "that pytest --nbval compares against)",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT,
        help=f"seconds allowed per cell (default: {DEFAULT_TIMEOUT})",
    )
    return parser.parse_args(argv)


def main(argv=None):
    """Runs the main job; returns the exit status (see the module docstring)."""
    args = _parse_args(argv)
    paths = args.notebooks or list(DEFAULT_NOTEBOOKS)
    missing = [path for path in paths if not Path(path).is_file()]
    if missing:
        for path in missing:
            print(
                f"error: notebook not found: {path}; expected an .ipynb file (the defaults "
                f"live in {REPO / 'notebooks'}); check the path or restore the file",
                file=sys.stderr,
            )
        return 2
    all_ok = True
    for path in paths:
        run = execute_notebook(path, timeout=args.timeout)
        write_outputs(run, args.out)
        print(summary_line(run), flush=True)
        if args.in_place and run.ok:
            save_in_place(run)
        elif args.in_place:
            print(f"{path}: not overwritten (the run did not pass: its outputs would replace the "
                  f"committed ones); fix the problem above, or see {args.out} for this run",
                  file=sys.stderr)
        all_ok = all_ok and run.ok
    print(f"outputs written to {args.out}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
