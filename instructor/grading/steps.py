"""The grading steps of one submission, each a sandboxed pytest run in a fresh work folder.

1. :func:`hidden_tests` -- the hidden unit tests, run by the trusted verdict process
   (:mod:`instructor.grading.verdicts`): the tests run outside the sandbox, the student's
   functions inside it (:mod:`instructor.grading.remote`); one outcome per test, a time
   limit per test, a crash or a time-out costs the tests of the function that caused it;
2. :func:`notebook` with ``kind="ref"`` -- ``pytest --nbval`` of a reference notebook (the
   solution's outputs) against the student's code, with the project's sanitizer; pytest and
   nbval (the collector, which decides the verdicts) and the Jupyter kernel (the student's
   code) are kept out of each other's reach by the sandbox, the reference notebook is the
   collector's alone, and a pytest exit status other than 0 or 1 fails the step;
3. :func:`notebook` with ``kind="own"`` -- the same for the student's own notebook: do the
   outputs handed in come out of the student's code, run top to bottom?

Each returns ``(outcomes, log)``: ``outcomes`` maps check ids (see
:mod:`instructor.grading.rubric`) to ``{"passed", "message"}`` (or ``"skipped"``), ``log``
is a :class:`StepLog`. A check that never produced an outcome because the run stopped early
(timeout, crash, limit) fails with that reason, so the points earned before it are kept and
the note says what happened.

Shortcut (exact, not a heuristic): when the student's notebook has the same code cells with
the same outputs as the reference notebook, nbval of it would run the same cells against the
same code and compare with the same expected outputs as the reference step already did; its
outcomes are then taken from that run instead of running the notebook a second time.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field

from assignment import collect
from instructor.grading import feedback_text, launch, sandbox, sandbox_view
from instructor.grading.workspace import REPORTER_MODULE, SANITIZER


@dataclass
class StepLog:
    name: str
    seconds: float
    problem: str | None = None     # timeout, crash, limit: one sentence
    output: str = ""               # the tail of the run's output, for the grader
    attempts: int = 1
    # for the student's feedback (instructor.grading.report): the public checks' results on
    # the student's code (hidden tests step), each failed cell's name (notebook steps)
    public: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    stubs: list = field(default_factory=list)   # functions the code leaves as stubs

    def to_dict(self):
        return {k: v for k, v in asdict(self).items()
                if v or k not in ("public", "labels", "stubs")}


def _pytest_cmd(ws, *args):
    return [sys.executable, "-m", "pytest", "-p", REPORTER_MODULE, "--grading-report-fd",
            launch.REPORT_FD, "-p", "no:cacheprovider", "-q", "-o", "addopts=",
            "--color=no", *args]


def _env(ws):
    # No plugin autoloading: the runs load what they use (-p nbval), nothing else from the
    # environment (faster start: nbval alone imports nbformat, ~1 s).
    return sandbox_view.sandbox_env(ws.work, {"PYTHONPATH": str(ws.tools),
                                              "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def parse_report(text):
    """The reporter plugin's JSON lines -> (collected ids, started ids, outcome per id).

    Messages lose their terminal colour codes (IPython colours its tracebacks)."""
    collected, started, outcomes = [], [], {}
    for line in text.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if "message" in ev:
            ev["message"] = ANSI.sub("", str(ev["message"]))
        kind = ev.get("event")
        if kind == "collected":
            collected = list(ev.get("nodeids", []))
        elif kind == "start":
            started.append(ev["nodeid"])
        elif kind == "collect-error":
            outcomes.setdefault("collect:" + ev.get("nodeid", ""), {
                "passed": False, "message": "could not be collected:\n" + ev.get("message", "")})
        elif kind == "report":
            nid, outcome = ev["nodeid"], ev.get("outcome")
            prev = outcomes.get(nid)
            if outcome == "failed":
                outcomes[nid] = {"passed": False, "message": ev.get("message", "")}
            elif outcome == "skipped" and prev is None:
                outcomes[nid] = {"passed": False, "skipped": True,
                                 "message": ev.get("message", "")}
            elif outcome == "passed" and (prev is None or prev.get("passed")):
                outcomes[nid] = {"passed": True, "message": ""}
    return collected, started, outcomes


def _first_lines(text, n=12):
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(lines[-n:])


def hidden_tests(ws, test_ids, rubric, uid=None, deadline=None):
    """Run the hidden tests ``test_ids`` (node ids as collected against the solution).

    The verdicts come from :mod:`instructor.grading.verdicts`, a process of the grader's
    that runs the hidden tests with the student's modules replaced by proxies of a sandboxed
    worker; this function only starts it and reads its outcome lines. ``deadline``: the
    submission's budget (``time.time()`` value), or None.
    """
    start = time.monotonic()
    trusted = ws.trusted()
    template = ws.template()
    limits = rubric.limits
    # outcomes come back on a pipe of their own: no file the worker could find and write
    out_r, out_w = os.pipe()
    config = {
        "template": str(template), "work": str(ws.work), "tools": str(ws.tools),
        "limits": asdict(limits), "env": _env(ws), "uid": uid,
        "budget_deadline": deadline, "budget_seconds": getattr(rubric, "budget_seconds", 0),
        "test_seconds": rubric.test_seconds, "selected": list(test_ids),
        "outcomes_fd": out_w, "release": str(ws.kit / "release"),
        "student_files": [f for f in ws.meta["student_files"] if f.endswith(".py")],
        "test_files": sorted({t.split("::")[0] for t in test_ids}),
    }
    (trusted / ".verdicts.json").write_text(json.dumps(config))
    wall = limits.wall_seconds if deadline is None else max(1.0, deadline - time.time())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(trusted), str(sandbox_view.REPO)]),
           "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    problems, sink = [], {}
    reader = threading.Thread(target=launch.drain, args=(out_r, launch.REPORT_LIMIT, sink),
                              daemon=True)
    reader.start()
    proc = subprocess.Popen([sys.executable, "-m", "instructor.grading.verdicts",
                             str(trusted / ".verdicts.json")], cwd=trusted, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, pass_fds=(out_w,))
    os.close(out_w)
    try:
        output, _ = proc.communicate(timeout=wall + GRACE_SECONDS)
        if proc.returncode != 0:
            problems.append(f"the verdict process ended with status {proc.returncode}")
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        problems.append(f"stopped after the time limit of {wall:g} s")
    reader.join(timeout=30)
    out_tail = _first_lines(output.decode(errors="replace"), 30)
    public = {}
    collected, got, worker_problems = parse_verdicts(sink.get("report", ""), public)
    problems += worker_problems
    outcomes = {f"test:{nid}": out for nid, out in got.items()}
    for nid in test_ids:
        if f"test:{nid}" in outcomes:
            continue
        if nid not in collected:
            msg = "not collected: the test could not be collected with this code"
        else:
            msg = "not run: " + ("; ".join(problems) or "the test run ended early")
        outcomes[f"test:{nid}"] = {"passed": False, "message": msg}
    ws.clean_work()
    return outcomes, StepLog("hidden tests", time.monotonic() - start,
                             "; ".join(dict.fromkeys(problems)) or None, out_tail, 1, public,
                             stubs=_stubs(template))


GRACE_SECONDS = 30.0


def parse_verdicts(text, public=None):
    """The verdict process's lines -> (collected ids, outcome per id, problems); the public
    checks' results (for hints) are put into the dict ``public`` when one is given."""
    collected, outcomes, problems = [], {}, []
    for line in text.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        kind = ev.get("event")
        if kind == "collected":
            collected = list(ev.get("nodeids", []))
        elif kind == "report":
            if ev.get("skipped"):
                outcomes[ev["nodeid"]] = {"passed": False, "skipped": True,
                                          "message": ev.get("message", "")}
            elif ev.get("passed"):
                outcomes.setdefault(ev["nodeid"], {"passed": True, "message": ""})
            else:
                outcomes[ev["nodeid"]] = {"passed": False, "kind": ev.get("kind", ""),
                                          "message": ev.get("message", "")}
        elif kind == "problem":
            problems.append(ev.get("message", ""))
        elif kind == "public" and public is not None and isinstance(ev.get("results"), dict):
            public.update(ev["results"])
    return collected, outcomes, problems


def code_cells(nb_json):
    return [c for c in nb_json.get("cells", []) if c.get("cell_type") == "code"]


def _comparable(nb_json):
    """Code cells as (source, outputs without execution counts and metadata)."""
    def src(c):
        s = c.get("source", "")
        return "".join(s) if isinstance(s, list) else s

    def outs(c):
        kept = []
        for o in c.get("outputs", []):
            o = {k: v for k, v in o.items() if k not in ("execution_count", "metadata")}
            kept.append(json.dumps(o, sort_keys=True))
        return kept
    return [(src(c), outs(c)) for c in code_cells(nb_json)]


def same_as_reference(student_bytes, reference_nb):
    """True when nbval of the student's notebook is exactly the reference step's run."""
    try:
        return _comparable(json.loads(student_bytes)) == _comparable(reference_nb)
    except (ValueError, AttributeError, TypeError):
        return False   # not a readable notebook: the own step reports it


NORMAL_EXITS = (0, 1)   # pytest: all passed, some failed; anything else ends a step failed


def notebook_cmd(ws, nb, rubric):
    """The collector's command line: nbval of ``notebooks/nb`` with the project's sanitizer.

    The kernel is the sandbox's (:data:`~instructor.grading.sandbox_view.KERNEL_NAME`: started
    under the student's uid, out of the collector's reach) wherever the sandbox isolates;
    ``--noconftest``: the collector loads no code from the work folder.
    """
    iso = sandbox.detect_isolation()
    kernel = (["--nbval-kernel-name", sandbox_view.KERNEL_NAME] if iso.safe
              else ["--nbval-current-env"])
    return _pytest_cmd(ws, "-p", "nbval", "--nbval", *kernel, "--noconftest",
                       "--nbval-sanitize-with", str(ws.tools / SANITIZER),
                       "--nbval-cell-timeout", f"{rubric.cell_seconds:g}", f"notebooks/{nb}")


def notebook(ws, nb, data, kind, rubric, uid=None):
    """nbval of notebook ``nb`` (bytes ``data``) as check ids ``<kind>:<nb>::Cell <n>``.

    The collector (pytest + nbval) and the kernel (the student's code) are kept apart by the
    sandbox (``collector=``); a reference notebook (``kind="ref"``, the solution's outputs)
    is readable by the collector only. A run that ends with a pytest exit status other than
    0 or 1 (interrupted, internal error, usage error, nothing collected) is a failed step:
    every check of it fails, with a note saying why.
    """
    start = time.monotonic()
    try:
        nb_json = json.loads(data)
        n_cells = len(code_cells(nb_json))
    except (ValueError, AttributeError, TypeError) as exc:
        return ({f"{kind}:{nb}": {"passed": False, "message": f"not a readable notebook ({exc})"}},
                StepLog(f"{kind} {nb}", 0.0, "unreadable notebook"))
    work = ws.fresh()
    path = ws.add(f"notebooks/{nb}", data=data)
    ws.give(uid)
    private = [str(path)] if kind == "ref" else []
    res = sandbox.run(notebook_cmd(ws, nb, rubric), work, rubric.limits, env=_env(ws),
                      uid=uid, collector={"private": private})
    _, started, got = parse_report(res.report)
    problem = res.problem(rubric.limits)
    abnormal = (problem is None and res.returncode not in NORMAL_EXITS)
    if abnormal:
        problem = (f"pytest ended with exit status {res.returncode} (not 0 or 1: interrupted "
                   "or broken), so none of its verdicts count")
        got = {}
    outcomes = {}
    for nid, out in got.items():
        if nid.startswith("collect:"):
            outcomes[f"{kind}:{nb}"] = out
            continue
        cell = nid.split("::", 1)[-1]
        outcomes[f"{kind}:{nb}::{cell}"] = out
    for n in range(n_cells):
        cid = f"{kind}:{nb}::Cell {n}"
        if cid not in outcomes:
            running = f"notebooks/{nb}::Cell {n}" in started and not abnormal
            why = problem or "the notebook run ended early"
            outcomes[cid] = {"passed": False, "message": (
                f"the run was {why} while this cell ran" if running else f"not run: {why}")}
    ws.clean_work()
    labels = _labels(nb_json, outcomes)
    return outcomes, StepLog(f"{kind} {nb}", time.monotonic() - start, problem,
                             _first_lines(res.output, 30), labels=labels)


def _stubs(root):
    """The functions the student's code files (under ``root``) leave as the release's stubs,
    found by reading them (``assignment collect``'s list), never by running them."""
    try:
        return [found.split(": ", 1)[1] for found in collect._stubbed_functions(root)]
    except (OSError, UnicodeDecodeError):
        return []


def _labels(nb_json, outcomes):
    """Each failed cell's name as a student finds it (:func:`feedback_text.cell_label`)."""
    labels = {}
    for cid, out in outcomes.items():
        head, _, cell = cid.rpartition("::Cell ")
        if out["passed"] or not head or not cell.isdigit():
            continue
        try:
            labels[cid] = feedback_text.cell_label(nb_json, int(cell))
        except Exception:  # noqa: BLE001 - a student's odd notebook: the cell keeps its id
            continue
    return labels


def reuse(outcomes, nb, src_kind="ref", dst_kind="own"):
    """Copy the cell outcomes of one run of ``nb`` under another kind (the shortcut above)."""
    prefix = f"{src_kind}:{nb}::"
    return {f"{dst_kind}:{nb}::" + k[len(prefix):]: v for k, v in outcomes.items()
            if k.startswith(prefix)}
