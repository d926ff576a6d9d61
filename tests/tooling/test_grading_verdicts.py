"""Tests of the verdict layer: the wire format, and the student's module as a proxy of a
sandboxed worker (instructor/grading/_rpc.py, _worker.py, remote.py, module_proxies.py).

Each worker test starts a real worker through the sandbox (its own uid when the grader runs
as root) on a small "student" module, ``toy.py``, written here.
"""

import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from instructor.grading import _rpc as rpc
from instructor.grading import (
    launch,
    module_proxies,
    remote,
    remote_errors,
    report,
    runner,
    sandbox,
    sandbox_view,
    scoring,
    workspace,
)
from instructor.grading.limits import Limits

# ------------------------------------------------------------------------------ format


def roundtrip(value, memo_objects=None):
    blobs = []
    memo = rpc.memo_of(memo_objects) if memo_objects else None
    tree = rpc.encode(value, blobs, memo)
    header, arrays = rpc.unpack(rpc.pack({"v": tree}, blobs)[8:])
    return rpc.decode(header["v"], arrays, refs=memo_objects,
                      make_namedtuple=lambda n, f, v: namedtuple(n, f)(*v))


def test_plain_data_roundtrips_exactly():
    value = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.int64(3),
             "f": np.float64(0.5), "t": (1, "a", None, True, 2.5, float("nan")),
             "l": [np.zeros(0), np.array(["ab", "c"])], 7: np.bool_(True),
             "dt": np.float32, "dtype": np.dtype("int16")}
    back = roundtrip(value)
    assert back["x"].dtype == np.float32 and np.array_equal(back["x"], value["x"])
    assert type(back["n"]) is np.int64 and back["n"] == 3
    assert type(back["f"]) is np.float64
    assert back["t"][:5] == (1, "a", None, True, 2.5) and np.isnan(back["t"][5])
    assert back["l"][1].tolist() == ["ab", "c"] and back[7] is np.True_
    assert back["dt"] is np.float32 and back["dtype"] == np.dtype("int16")
    cache = namedtuple("Cache", ["a", "b"])(np.ones(2), 3)
    got = roundtrip(cache)
    assert got._fields == ("a", "b") and got.b == 3


def test_references_keep_the_identity_of_objects_sent():
    x = np.ones(3)
    d = {"mode": "train"}
    back = roundtrip((x, [d, 1]), memo_objects=[x, d])
    assert back[0] is x and back[1][0] is d


@pytest.mark.parametrize("payload, message", [
    (struct.pack("<I", 3) + b"{\"a", "malformed frame"),
    (struct.pack("<I", 2) + b"[]", "JSON object"),
    (struct.pack("<I", 27) + b'{"arrays": [["|O", [1]]]} ', "dtype"),
    (struct.pack("<I", 27) + b'{"arrays": [["<f8", [4]]]} ' + b"\0" * 8, "truncated"),
    (struct.pack("<I", 14) + b'{"arrays": []}' + b"junk", "trailing"),
])
def test_malformed_frames_are_protocol_errors(payload, message):
    with pytest.raises(rpc.ProtocolError, match=message):
        rpc.unpack(payload)


@pytest.mark.parametrize("tree, message", [
    ({"t": "nd", "i": 3}, "out of range"),
    ({"t": "exec", "v": "import os"}, "unknown tag"),
    ({"t": "ref", "i": 0}, "reference"),
    ({"t": "dict", "v": [[{"t": "list", "v": []}, 1]]}, "hashable"),
    ({"t": "dtype", "v": "O"}, "object"),
    ([1, 2], "unexpected value"),
])
def test_malformed_values_are_protocol_errors(tree, message):
    with pytest.raises(rpc.ProtocolError, match=message):
        rpc.decode(tree, [])


def test_frames_announcing_too_much_are_refused():
    with pytest.raises(rpc.ProtocolError, match="larger than"):
        rpc.frame_length(struct.pack("<Q", rpc.MAX_FRAME + 1))


def test_objects_are_never_sent():
    with pytest.raises(rpc.ProtocolError, match="objects"):
        rpc.encode(np.array([object()]), [])
    with pytest.raises(rpc.ProtocolError, match="cannot be sent"):
        rpc.encode(object(), [])


def test_merge_writes_in_place_and_keeps_aliases():
    w = np.zeros(3)
    params = {"W": w, "gone": 1}
    kept = rpc.merge(params, {"W": np.ones(3), "new": [1]})
    assert kept is params and params["W"] is w and w.tolist() == [1, 1, 1]
    assert "gone" not in params and params["new"] == [1]
    assert rpc.merge(w, np.ones(4)).shape == (4,) and w.shape == (3,)   # cannot: replaced


# ------------------------------------------------------------------------------ worker

TOY = '''
import os
import numpy as np
from collections import namedtuple

Cache = namedtuple("Cache", ["x", "scale"])
RULES = ("a", "b")


def scale(x, param):
    param["calls"] = param.get("calls", 0) + 1
    param["running"] = param.get("running", np.zeros_like(x)) + x
    return x * param["scale"], Cache(x, param["scale"])


def back(dout, cache):
    return dout * cache.scale


def same(x):
    return x


def bad(x):
    raise ValueError(f"x has shape {x.shape}, expected (3,)")


def stub(x):
    raise NotImplementedError("stub: not implemented yet")


def draw(n):
    return np.random.rand(n)


def spin():
    while True:
        pass


def die():
    os._exit(3)


def forge():
    for fd in os.listdir("/proc/self/fd"):   # the reply FIFO, found as any code could
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.endswith("replies"):
            os.write(int(fd), b"garbage" * 100)
    return 1


class Model:
    def __init__(self, n):
        self.params = {"W": np.arange(float(n))}
        self.reg = 0.0

    def loss(self):
        return float(self.params["W"].sum() + self.reg)
'''


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A Remote on a template folder holding toy.py; the proxy module ``toy``."""
    scratch = Path(tempfile.mkdtemp(prefix="cs231n-grade-test-"))
    scratch.chmod(0o711)
    template = scratch / "template"
    template.mkdir()
    (template / "toy.py").write_text(TOY)
    sandbox_view.make_home(template)
    tools = scratch / "tools"
    tools.mkdir()
    tools.chmod(0o755)
    for name, src in workspace.WORKER.items():
        shutil.copy2(src, tools / name)
    iso = sandbox.detect_isolation()
    uid = launch.UIDS.acquire() if iso.switch_uid else None
    env = sandbox_view.sandbox_env(scratch / "work", {"PYTHONPATH": str(tools)})
    r = remote.Remote(template, scratch / "work", tools, Limits(wall_seconds=300),
                      env, uid)
    r.call_seconds = 20
    mod = module_proxies.install(r, ["toy.py"], template)["toy"]
    yield r, mod
    r.stop()
    sys.modules.pop("toy", None)
    if uid is not None:
        launch.UIDS.release(uid)
    shutil.rmtree(scratch, ignore_errors=True)


def test_calls_return_results_and_in_place_effects(toy):
    r, toy = toy
    x = np.array([1.0, 2.0, 3.0])
    param = {"scale": 2.0}
    out, cache = toy.scale(x, param)
    assert out.tolist() == [2, 4, 6]
    assert type(cache).__name__ == "Cache" and cache.x is x   # the argument itself
    assert isinstance(cache, toy.Cache)   # the release's namedtuple, resolved trusted-side
    assert param["calls"] == 1 and param["running"].tolist() == [1, 2, 3]
    running = param["running"]
    toy.scale(x, param)
    assert param["running"] is running and running.tolist() == [2, 4, 6]   # merged in place
    assert toy.back(np.ones(3), cache).tolist() == [2, 2, 2]   # the cache goes back
    assert toy.same(x) is x
    assert toy.RULES == ("a", "b") and toy.scale.__name__ == "scale"


def test_the_students_exceptions_are_raised_as_their_builtin_type(toy):
    _, toy = toy
    with pytest.raises(ValueError, match=r"x has shape \(2,\), expected"):
        toy.bad(np.ones(2))
    with pytest.raises(NotImplementedError) as info:
        toy.stub(1)
    assert isinstance(info.value, remote_errors.StudentCodeError)


def test_the_global_random_state_follows_the_calls(toy):
    _, toy = toy
    np.random.seed(5)
    got = toy.draw(3)
    after = np.random.rand(2)
    np.random.seed(5)
    expected = np.random.rand(5)
    assert np.array_equal(got, expected[:3]) and np.array_equal(after, expected[3:])


def test_objects_stay_in_the_worker_and_their_attributes_are_mirrored(toy):
    _, toy = toy
    model = toy.Model(3)
    assert isinstance(model, toy.Model) and model.loss() == 3.0
    w = model.params["W"]
    w[0] = 10.0                      # as a numerical gradient check does
    model.reg = 1.0
    assert model.loss() == 14.0
    assert model.params["W"] is w


def test_a_hanging_call_is_killed_and_not_repeated(toy):
    r, toy = toy
    r.call_seconds = 1.0
    try:
        start = time.monotonic()
        with pytest.raises(remote_errors.CallTimeout) as info:
            toy.spin()
        assert not info.value.again and time.monotonic() - start < 10
        start = time.monotonic()
        with pytest.raises(remote_errors.CallTimeout) as info:
            toy.spin()
        assert info.value.again and time.monotonic() - start < 0.5
        assert toy.same(2) == 2   # a fresh worker for the other functions
    finally:
        r.call_seconds = 20


def test_a_worker_that_dies_fails_the_call_and_is_replaced(toy):
    _, toy = toy
    model = toy.Model(2)
    with pytest.raises(remote_errors.WorkerGone, match="status 3"):
        toy.die()
    assert toy.same(1) == 1
    with pytest.raises(remote_errors.WorkerGone, match="restarted"):
        model.loss()


def test_a_forged_reply_is_a_bad_reply_not_a_crash(toy):
    _, toy = toy
    with pytest.raises(remote_errors.BadReply):
        toy.forge()
    assert toy.same(3) == 3


# ------------------------------------------------------------------------------ reports


def test_student_ids_never_share_a_file_name():
    names = ["coll x", "coll_x", "coll%20x", ".hidden", "../x", "\ud800"]
    files = [report.safe_name(n) for n in names]
    assert len(set(files)) == len(files), files
    assert all("/" not in f and not f.startswith(".") for f in files)


def test_a_lone_surrogate_does_not_stop_the_reports(tmp_path):
    from instructor.grading import rubric as rubric_mod

    rub = rubric_mod.from_dict({"item": [{"id": "a", "points": 1, "tests": ["t::*"]}]})
    bad = "\ud800"
    result = {"student": "s" + bad, "score": 0, "max_score": 1, "notes": [bad],
              "items": [{"id": "a", "title": "A", "points": 0, "max_points": 1, "passed": 0,
                         "checks": 1, "failures": [{"check": "test:t::x", "message": bad}],
                         "functions": [], "note": ""}],
              "inline": {"Q": {"question": "why?", "answer": bad}}, "steps": [],
              "isolation": [], "seconds": 0}
    report.write_result(tmp_path, result)
    report.write_summary(tmp_path, rub)
    assert "\\ud800" in (tmp_path / "feedback" / f"{report.safe_name('s' + bad)}.md").read_text()
    assert report.is_done(tmp_path, "s" + bad)


def test_colliding_result_names_are_an_error_naming_both(tmp_path, monkeypatch):
    (tmp_path / "a b").mkdir()
    (tmp_path / "a_b").mkdir()
    runner.discover(tmp_path)   # distinct names: fine
    monkeypatch.setattr(report, "safe_name", lambda s: s.replace(" ", "_"))
    with pytest.raises(ValueError, match=r"'a b' and 'a_b'|'a_b' and 'a b'"):
        runner.discover(tmp_path)


# ------------------------------------------------------------------------------ own notebooks


def _nb(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _code(src, outputs=(), tags=None):
    cell = {"cell_type": "code", "source": src, "metadata": {}, "outputs": list(outputs),
            "execution_count": 1}
    if tags:
        cell["metadata"]["tags"] = list(tags)
    return cell


OUT = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
REFERENCE = _nb(_code("import x"), _code("# NBVAL_IGNORE_OUTPUT\nprint(t)", OUT),
                _code("y = solve()", OUT), _code("check(y)", OUT))
RELEASE = _nb(_code("import x"), _code("# NBVAL_IGNORE_OUTPUT\nprint(t)"),
              _code("y = ...  # your code"), _code("check(y)"))


def test_own_notebook_without_the_given_cells_does_not_count():
    from instructor.grading import own

    data = json.dumps(_nb(_code("x = 1", OUT))).encode()
    nb, problem, _ = own.prepare(data, REFERENCE, RELEASE)
    assert nb is None and "3 of the 3 code cells that come with the assignment" in problem


def test_own_notebook_loses_nbval_switches_but_keeps_the_instructors():
    from instructor.grading import own

    sub = _nb(_code("import x", tags=["raises-exception"]),
              _code("print(t)", OUT, tags=["nbval-skip", "mine"]),
              _code("# NBVAL_IGNORE_OUTPUT\ny = mine()", OUT, tags=["nbval-ignore-output"]),
              _code("check(y)  ", OUT))
    data, problem, failed = own.prepare(json.dumps(sub).encode(), REFERENCE, RELEASE)
    assert problem is None and failed == {}
    cells = json.loads(data)["cells"]
    assert [c["metadata"].get("tags") for c in cells] == [None, ["mine"], None, None]
    assert cells[1]["source"].startswith("# NBVAL_IGNORE_OUTPUT")   # the instructor's
    assert cells[2]["source"] == "y = mine()"                     # the student's: stripped


def test_own_notebook_saved_without_outputs_fails_those_cells():
    from instructor.grading import own

    sub = _nb(_code("import x"), _code("print(t)"), _code("y = mine()", OUT), _code("check(y)"))
    _, problem, failed = own.prepare(json.dumps(sub).encode(), REFERENCE, RELEASE)
    assert problem is None and sorted(failed) == [1, 3]
    assert "no outputs" in failed[1]


# ------------------------------------------------------------------------------ preflight


@pytest.fixture
def tiny_kit(tmp_path):
    from instructor.grading import rubric as rubric_mod

    kit = tmp_path / "kit"
    (kit / "reference").mkdir(parents=True)
    (kit / "reference" / "Mini.ipynb").write_text("{}")
    (kit / "kit.json").write_text(json.dumps({"student_files": ["assignment/layers.py"],
                                              "notebooks": ["Mini.ipynb"], "hidden": [],
                                              "test_ids": []}))
    rub = rubric_mod.from_dict({"item": [{"id": "a", "points": 2, "tests": ["t::*"]},
                                         {"id": "b", "points": 1, "own_notebook": "Mini.ipynb"}],
                                "files": {"notebooks": ["Mini.ipynb"]}})
    return kit, rub


def test_preflight_refuses_without_the_data(tiny_kit, monkeypatch):
    from instructor.grading import preflight

    kit, rub = tiny_kit
    monkeypatch.setattr(sandbox_view, "data_dir", lambda: None)
    with pytest.raises(preflight.PreflightError, match=r"CIFAR-10 is not complete.*make data"):
        preflight.check(kit, rub, REPO, kit.parent / "out", log=lambda m: None)


def test_preflight_grades_the_reference_once_per_kit_and_refuses_a_partial_score(
        tiny_kit, monkeypatch):
    from instructor.grading import preflight

    kit, rub = tiny_kit
    monkeypatch.setattr(preflight, "check_data", lambda rubric: None)
    calls = []

    def fake_grade(name, source, kit_, rubric, scratch=None):
        calls.append(name)
        files = zipfile.ZipFile(io.BytesIO(source)).namelist()
        assert files == ["assignment/layers.py", "notebooks/Mini.ipynb"]
        score = 3.0 if len(calls) == 1 else 2.0
        return {"student": name, "score": score, "max_score": 3.0, "seconds": 40.0,
                "notes": ["no CIFAR-10"] if score < 3 else [],
                "items": [{"id": "b", "points": score - 2, "max_points": 1.0,
                           "failures": [{"check": "own:Mini.ipynb::Cell 3",
                                         "message": "DatasetUnavailableError: no data"}]}]}
    monkeypatch.setattr(preflight.job, "grade", fake_grade)
    out = kit.parent / "out"
    assert preflight.check(kit, rub, REPO, out, log=lambda m: None)["score"] == 3
    assert preflight.check(kit, rub, REPO, out, log=lambda m: None)["score"] == 3
    assert calls == ["reference-solution"]                    # cached by the kit's hash
    (kit / "reference" / "Mini.ipynb").write_text('{"changed": 1}')   # another kit
    with pytest.raises(preflight.PreflightError, match=r"scores 2/3(.|\n)*b: 0/1(.|\n)*"
                                                       r"DatasetUnavailableError"):
        preflight.check(kit, rub, REPO, out, log=lambda m: None)
    assert preflight.budget(rub, 40.0) == 120.0


REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------- notebook items gated by the hidden tests

GATED = {
    "release": {"given": ["affine_forward"]},
    "item": [
        {"id": "t_drop", "points": 2, "tests": ["t.py::test_drop*"],
         "functions": ["dropout_forward"]},
        {"id": "t_net", "points": 2, "tests": ["t.py::test_net_*"],
         "functions": ["FullyConnectedNet.loss"]},
        {"id": "nb_drop", "points": 3, "notebook": "N.ipynb", "sections": ["*"],
         "functions": ["dropout_forward", "affine_forward"]},
        {"id": "nb_net", "points": 3, "notebook": "N.ipynb", "sections": ["*"],
         "functions": ["FullyConnectedNet.loss"]},
        {"id": "own", "points": 1, "own_notebook": "N.ipynb"},
    ],
    "files": {"notebooks": ["N.ipynb"]},
    "function_tests": {"FullyConnectedNet.loss": ["t.py::test_net_core"]},
}
NB = {"cells": [{"cell_type": "code", "source": "x = 1"}]}


def gated_outcomes(**passed):
    """Every notebook cell passed (as a faking kernel makes them); hidden tests as given."""
    outcomes = {"ref:N.ipynb::Cell 0": {"passed": True, "message": ""},
                "own:N.ipynb::Cell 0": {"passed": True, "message": ""}}
    for test in ("test_drop_a", "test_drop_b", "test_net_core", "test_net_float32"):
        outcomes[f"test:t.py::{test}"] = {"passed": passed.get(test, True), "message": ""}
    return outcomes


def scored(outcomes, data=GATED):
    from instructor.grading import rubric as rubric_mod

    rub = rubric_mod.from_dict(json.loads(json.dumps(data)))
    return {i["id"]: i for i in scoring.score(rub, outcomes, {"N.ipynb": NB})}


def test_notebook_items_earn_their_points_only_with_the_hidden_tests_of_their_functions():
    items = scored(gated_outcomes())
    assert {k: v["points"] for k, v in items.items()} == {
        "t_drop": 2, "t_net": 2, "nb_drop": 3, "nb_net": 3, "own": 1}
    # a stub dropout_forward whose kernel printed every expected line
    items = scored(gated_outcomes(test_drop_b=False))
    assert items["nb_drop"]["points"] == 0 and items["own"]["points"] == 0
    assert items["nb_drop"]["passed"] == items["nb_drop"]["checks"] == 1
    (gate,) = [f for f in items["nb_drop"]["failures"] if f["check"].startswith("gate:")]
    assert gate["check"] == "gate:dropout_forward" and "t.py::test_drop_b" in gate["message"]
    assert "hidden tests of dropout_forward" in items["nb_drop"]["note"]
    assert items["nb_net"]["points"] == 3   # another function's tests: not gated by them


def test_the_gate_uses_the_function_tests_table_and_not_given_functions():
    # [function_tests] narrows FullyConnectedNet.loss to its core test: a failed float32
    # test costs the hidden-test item only
    items = scored(gated_outcomes(test_net_float32=False))
    assert items["t_net"]["points"] == 1 and items["nb_net"]["points"] == 3
    items = scored(gated_outcomes(test_net_core=False))
    assert items["nb_net"]["points"] == 0 and items["own"]["points"] == 0
    # affine_forward is given: not gated, and no hidden test of it is needed
    assert not any(f["check"] == "gate:affine_forward" for f in items["nb_drop"]["failures"])


def test_an_own_notebook_item_is_gated_by_its_notebooks_functions():
    from instructor.grading import rubric as rubric_mod

    rub = rubric_mod.from_dict(json.loads(json.dumps(GATED)))
    own = next(i for i in rub.items if i.id == "own")
    assert rub.gate(own) == ("dropout_forward", "FullyConnectedNet.loss")
    assert rubric_mod.from_dict(rub.to_dict()).function_tests == rub.function_tests


def test_gating_tests_run_even_when_no_item_scores_them_and_missing_ones_fail():
    from instructor.grading import rubric as rubric_mod

    data = json.loads(json.dumps(GATED))
    data["item"] = data["item"][2:]   # notebook items only
    data["function_tests"]["dropout_forward"] = ["t.py::test_drop_a"]
    rub = rubric_mod.from_dict(data)
    assert rub.needs_tests
    ids = ["t.py::test_drop_a", "t.py::test_drop_b", "t.py::test_net_core"]
    assert scoring.selected_tests(rub, ids) == ["t.py::test_drop_a", "t.py::test_net_core"]
    outcomes = {k: v for k, v in gated_outcomes().items() if "test_drop" not in k}
    items = {i["id"]: i for i in scoring.score(rub, outcomes, {"N.ipynb": NB})}
    assert items["nb_drop"]["points"] == 0   # its hidden test did not run: no credit
    assert "no hidden test of dropout_forward ran" in items["nb_drop"]["failures"][-1]["message"]


def test_a_notebook_item_whose_function_has_no_hidden_test_is_a_rubric_error():
    from instructor.grading import rubric as rubric_mod

    data = json.loads(json.dumps(GATED))
    data["item"][3]["functions"] = ["Solver._step"]
    with pytest.raises(rubric_mod.RubricError, match=r"nb_net lists 'Solver._step', which no "
                                                      r"hidden test checks.*\[function_tests\]"):
        rubric_mod.from_dict(data)


def test_every_notebook_item_of_the_shipped_rubric_is_gated_by_hidden_tests_that_exist():
    from instructor.grading import rubric as rubric_mod

    rub = rubric_mod.load()
    root = Path(rubric_mod.__file__).resolve().parents[2]   # the repository
    for item in rub.items:
        if item.notebook or item.own_notebook:
            assert rub.gate(item), item.id
            for f in rub.gate(item):
                for pattern in rub.function_tests[f]:
                    path, name = pattern.split("::")
                    prefix = re.split(r"[\[*?]", name)[0]
                    source = (root / path).read_text()
                    assert re.search(rf"^def {re.escape(prefix)}", source, re.M), (item.id, f)


# ----------------------------- an unprivileged grader: the level of the limits is reported

ISOLATION_PROBE = ("import json; from instructor.grading import sandbox; "
                   "print('ISOLATION ' + json.dumps([sandbox.cgroups.detect().version, "
                   "sandbox.detect_isolation().describe()]))")


def test_an_unprivileged_grader_without_cgroups_reports_limits_per_process():
    """Without a cgroup it may create, an unprivileged grader limits each process on its own
    (setrlimit); every report must say so, not promise limits per submission."""
    from tests.tooling.sandbox_harness import PY, grader_env, unprivileged_prefix

    prefix = unprivileged_prefix() if os.geteuid() == 0 else []
    repo = Path(sandbox.__file__).resolve().parents[2]
    proc = subprocess.run([*prefix, PY, "-c", ISOLATION_PROBE], cwd=repo,
                          env=grader_env(), capture_output=True, text=True, timeout=300)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("ISOLATION "))
    version, isolation = json.loads(line[len("ISOLATION "):])
    if version is not None:
        pytest.skip(f"this unprivileged grader may create cgroups ({version}): limits are per "
                    "sandbox")
    (limits,) = [ln for ln in isolation if ln.startswith("limits: ")]
    assert "per process only" in limits and "no cgroup" in limits, isolation
    result = {"student": "s", "score": 0, "max_score": 1, "items": [], "notes": [],
              "isolation": isolation, "limits": "memory 4 GiB"}
    assert f"- {limits}" in report.feedback(result)
