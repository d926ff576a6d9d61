"""Tests of the student's module as a proxy of a sandboxed worker (instructor/grading/_worker.py,
remote.py, module_proxies.py): results and in-place effects come back, the student's exceptions
keep their builtin type, the global random state follows the calls, objects stay in the worker,
and a hanging, dying or forging worker fails its call, not the grader.

Each test calls a real worker started through the sandbox (its own uid when the grader runs
as root) on a small "student" module, ``toy.py``, written here.
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from instructor.grading import (
    launch,
    module_proxies,
    remote,
    remote_errors,
    sandbox,
    sandbox_view,
    workspace,
)
from instructor.grading.limits import Limits

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


def remote_on(source, module="toy"):
    """A Remote on a template folder holding ``<module>.py`` = ``source``; the proxy
    module. A generator: the clean-up runs after its one ``yield``."""
    scratch = Path(tempfile.mkdtemp(prefix="cs231n-grade-test-"))
    scratch.chmod(0o711)
    template = scratch / "template"
    template.mkdir()
    (template / f"{module}.py").write_text(source)
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
    mod = module_proxies.install(r, [f"{module}.py"], template)[module]
    yield r, mod
    r.stop()
    sys.modules.pop(module, None)
    if uid is not None:
        launch.UIDS.release(uid)
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module")
def toy():
    """A Remote on a template folder holding toy.py; the proxy module ``toy``."""
    yield from remote_on(TOY)


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


DIES_AT_IMPORT = '''
import os

def same(x):
    return x

os.write(1, b"garbage")
os._exit(0)
'''


def test_a_worker_that_dies_at_import_fails_every_later_call_at_once():
    """Red-team attack 1 (os._exit at import): every fresh worker would die the same way, so
    the first failure breaks the Remote and the later calls fail at once, saying why."""
    source = remote_on(DIES_AT_IMPORT, module="toy_dies")
    r, mod = next(source)
    try:
        with pytest.raises(remote_errors.WorkerGone, match="while importing your modules"):
            mod.same(1)
        generation, start = r.generation, time.monotonic()
        for _ in range(3):
            with pytest.raises(remote_errors.WorkerGone, match="while importing your modules"):
                mod.same(2)
        assert r.generation == generation and time.monotonic() - start < 0.5   # no new worker
    finally:
        next(source, None)
