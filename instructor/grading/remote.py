"""Trusted side of the hidden tests: the student's modules as proxies of a sandboxed worker.

TRUSTED SIDE: this module never imports, executes or shares a process with student code.
:class:`Remote` starts :mod:`instructor.grading._worker` in the sandbox
(:func:`instructor.grading.sandbox.run`, the student's uid and limits) and talks to it over
two FIFOs in the work folder; :func:`instructor.grading.module_proxies.install` puts
proxies into ``sys.modules`` in place of the student's modules (``assignment.layers`` ...),
so that the hidden tests run *unchanged* in the trusted process: every call of a student
function sends its arguments to the worker and returns the worker's result; the assertions,
the inputs (fixtures, seeds) and the reference values stay here.

What crosses the boundary (the format is :mod:`instructor.grading._rpc`; no pickle):

* arguments and results as plain data (arrays, numbers, strings, tuples, lists, dicts,
  namedtuples); an object that is not plain data (a model, a custom cache) stays in the
  worker and is a *handle* here (:class:`RemoteObject`), whose plain-data attributes are
  mirrored: sent before each call that involves it, merged back in place after it (so
  ``model.params[k]`` edited by a numerical gradient check reaches the worker, and
  ``bn_param['running_mean']`` set by the student's code reaches the test);
* in-place changes of array, list and dict arguments, and numpy's global random state, in
  both directions around every call;
* an exception of the student's code comes back as its type name and message and is raised
  here as a subclass of the matching built-in type (``ValueError`` ...) and of
  :class:`~instructor.grading.remote_errors.StudentCodeError`.

Every call waits at most until :attr:`Remote.deadline` (the test's time limit, capped by the
submission's budget); a call past it kills the worker (:class:`CallTimeout`), and later
calls of the same function fail at once. A worker that dies (crash, limit) raises
:class:`WorkerGone`; the next call starts a fresh worker from a pristine copy of the work
folder. A reply that does not follow the format is a :class:`BadReply`. (All four:
:mod:`instructor.grading.remote_errors`.)

Every worker imports the student's modules (:attr:`Remote.modules`) right after it starts,
before its first call. A worker that ends, hangs or answers garbage *there* (``os._exit`` at
import, say) would do so in every fresh worker: the Remote is then broken, and every later
call fails at once with the same :class:`WorkerGone` instead of starting (and waiting for) a
new worker per check. Only failures count as broken: an exception at import is the answer of
the calls that need that module, as before.

Why proxies rather than hidden tests rewritten as input/compare specs: the hidden tests stay
ordinary pytest files that the instructor and the colleagues writing new ones (a Solver test,
say) can run directly against the solution; every assertion keeps its meaning; and no second
description of the same checks can drift from the first. The cost is this module and
:mod:`instructor.grading.module_proxies`.
"""

import collections
import keyword
import os
import select
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from instructor.grading import _rpc as rpc
from instructor.grading import sandbox
from instructor.grading.remote_errors import BadReply, CallTimeout, WorkerGone, student_exception

STARTUP_SECONDS = 60.0


class Remote:
    """One sandboxed worker at a time for one submission's hidden tests.

    ``template``: the pristine work folder (the release with the student's code), copied to
    ``work`` for every worker; ``tools``: the folder holding the worker and the codec;
    ``limits``, ``env``, ``uid``: as for :func:`sandbox.run`.
    """

    def __init__(self, template, work, tools, limits, env, uid=None, budget_deadline=None):
        self.template, self.work, self.tools = Path(template), Path(work), Path(tools)
        self.rpc_dir = self.work.with_name(self.work.name + ".rpc")
        self.limits, self.env, self.uid = limits, env, uid
        self.budget_deadline = budget_deadline
        self.call_seconds = None      # the time limit of one call (None: no limit)
        self.deadline = None          # the current call's deadline (time.time())
        self.hung = {}                # functions that timed out
        self.generation = 0
        self.handles = {}
        self.classes = {}
        self.namedtuples = {}
        self.problems = []            # one sentence per worker that ended abnormally
        self.modules = []             # the student's modules, imported by each new worker
        self.broken = None            # why no worker can start (it fails at import)
        self.random = rpc.RandomTracker()
        self._rng_generation = None
        self._proc = None
        self._thread = None
        self._result = None
        self._fds = None

    # -- lifetime ----------------------------------------------------------------------
    def _prepare_work(self):
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.copytree(self.template, self.work, symlinks=True)
        # The FIFOs live beside the work folder, not in it: the sandbox shows the work folder
        # through an overlay, where a FIFO is a different inode from the host's (the two ends
        # would never meet); the sandbox binds this folder in as it is (see run's readonly).
        shutil.rmtree(self.rpc_dir, ignore_errors=True)
        self.rpc_dir.mkdir()
        fifos = self.rpc_dir / "requests", self.rpc_dir / "replies"
        for f in fifos:
            os.mkfifo(f, 0o600)
        if self.uid is not None:
            for dirpath, dirnames, filenames in os.walk(self.work):
                for name in dirnames + filenames:
                    os.lchown(Path(dirpath) / name, self.uid, self.uid)
            os.chown(self.work, self.uid, self.uid)
            self.work.chmod(0o700)
            for f in (self.rpc_dir, *fifos):
                os.chown(f, self.uid, self.uid)
            self.rpc_dir.chmod(0o700)
        return fifos

    def start(self):
        if self.broken:
            raise WorkerGone(self.broken)
        self.stop()
        self.generation += 1
        self.handles = {}
        req, rep = self._prepare_work()
        # O_RDWR: opening never blocks, and a FIFO we hold both ends of never reads EOF
        self._fds = (os.open(req, os.O_RDWR | os.O_NONBLOCK),
                     os.open(rep, os.O_RDWR | os.O_NONBLOCK))
        cmd = [sys.executable, "-m", "_grading_worker", str(req), str(rep)]
        limits = self.limits
        if self.budget_deadline is not None:
            left = max(1.0, self.budget_deadline - time.time())
            limits = type(limits)(**{**vars(limits),
                                     "wall_seconds": min(limits.wall_seconds, left)})
        self._result = None
        started = threading.Event()

        def on_start(proc):
            self._proc = proc
            started.set()

        def run():
            self._result = sandbox.run(cmd, self.work, limits, env=self.env, uid=self.uid,
                                       on_start=on_start, readonly=[self.rpc_dir])
            started.set()
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        started.wait(STARTUP_SECONDS)
        self.deadline = time.time() + STARTUP_SECONDS
        self._request({"op": "hello"}, [], what="the worker's start")
        if self.modules:
            self._import_modules()

    def _import_modules(self):
        """The new worker imports the student's modules; one that fails there breaks the
        Remote (see the module's docstring). Its limit is the start's, not a call's: a slow
        machine must not break an honest submission (the budget still caps it)."""
        self.deadline = time.time() + STARTUP_SECONDS
        what = "the import of your modules"
        try:
            reply, _ = self._request({"op": "import", "modules": list(self.modules)}, [], what)
            if reply.get("imported") is not True:
                raise rpc.ProtocolError("no answer to the import")
            return
        except WorkerGone as exc:
            why = str(exc)
        except CallTimeout:
            why = (f"it did not finish within {STARTUP_SECONDS:g} s or the submission's time "
                   "budget (an infinite loop at import?)")
        except rpc.ProtocolError as exc:
            why = f"it answered something that is not a reply ({exc})"[:300]
        self.stop()
        self.broken = (f"the process running your code failed while importing your modules: "
                       f"{why}; the checks after it were failed at once, without a new start")
        self.problems.append(self.broken)
        raise WorkerGone(self.broken)

    def alive(self):
        return self._thread is not None and self._thread.is_alive()

    def stop(self):
        """Kill the worker (if any) and wait for its sandbox to end."""
        if self._proc is not None and self._thread is not None and self._thread.is_alive():
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._fds:
            for fd in self._fds:
                os.close(fd)
        self._fds, self._proc, self._thread = None, None, None

    def _gone(self):
        res = self._result
        why = "the worker process ended"
        if res is not None:
            why = res.problem(self.limits) or (
                f"the worker process exited with status {res.returncode}")
            tail = res.output.strip().splitlines()[-3:]
            if tail:
                why += " (" + " / ".join(t.strip() for t in tail)[:300] + ")"
        self.problems.append(why)
        self.stop()
        return WorkerGone(why)

    # -- I/O ---------------------------------------------------------------------------
    def _wait(self, fd, writing, what):
        while True:
            limit = self.deadline
            if self.budget_deadline is not None:
                limit = min(limit or self.budget_deadline, self.budget_deadline)
            left = None if limit is None else limit - time.time()
            if left is not None and left <= 0:
                self.stop()
                raise CallTimeout(what)
            rl, wl = ([], [fd]) if writing else ([fd], [])
            ready = select.select(rl, wl, [], min(0.2, left) if left is not None else 0.2)
            if ready[0] or ready[1]:
                return
            if not self.alive():
                raise self._gone()

    def _send(self, data, what):
        fd = self._fds[0]
        view = memoryview(data)
        while view:
            self._wait(fd, True, what)
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                continue

    def _recv(self, n, what):
        fd = self._fds[1]
        data = bytearray()
        while len(data) < n:
            self._wait(fd, False, what)
            try:
                chunk = os.read(fd, min(n - len(data), 1 << 20))
            except BlockingIOError:
                continue
            data += chunk
        return bytes(data)

    def _request(self, header, blobs, what):
        try:
            frame = rpc.pack(header, blobs)
        except (TypeError, ValueError) as exc:
            raise BadReply(f"the test's arguments cannot be sent: {exc}") from None
        self._send(frame, what)
        size = rpc.frame_length(self._recv(8, what))
        return rpc.unpack(self._recv(size, what))

    def request(self, header, blobs, what):
        """Send one request, return ``(reply header, arrays)``; starts a worker if needed."""
        if not self.alive():
            self.start()
        self.deadline = time.time() + (self.call_seconds or STARTUP_SECONDS)
        try:
            return self._request(header, blobs, what)
        except rpc.ProtocolError as exc:
            self.stop()   # the stream may be out of step: start afresh next time
            raise BadReply(str(exc)) from None

    # -- values ------------------------------------------------------------------------
    def namedtuple_class(self, name, fields):
        key = (name, tuple(fields))
        cls = self.namedtuples.get(key)
        if cls is None:
            if not (name.isidentifier() and not keyword.iskeyword(name) and len(fields) < 100
                    and all(f.isidentifier() and not keyword.iskeyword(f)
                            and not f.startswith("_") for f in fields)):
                raise rpc.ProtocolError(f"malformed namedtuple {name!r}")
            cls = self.namedtuples[key] = collections.namedtuple(name, fields)
        return cls

    def class_for(self, module, name):
        key = (module, name)
        if key not in self.classes:
            remote = self

            def __new__(cls, *args, **kwargs):
                return remote.call({"module": module, "name": name}, args, kwargs,
                                   label=name)
            self.classes[key] = type(name, (RemoteObject,), {
                "__module__": module, "__qualname__": name, "__new__": __new__,
                "__init__": lambda self, *a, **k: None})
        return self.classes[key]

    def make_handle(self, hid, cls):
        obj = self.handles.get(hid)
        if obj is None:
            known = [c for (m, n), c in self.classes.items() if n == cls]
            klass = known[0] if known else self.class_for("student_code", cls[:100])
            obj = object.__new__(klass)
            object.__setattr__(obj, "_r", (self, self.generation, hid, {}))
            self.handles[hid] = obj
        return obj

    def _decode(self, tree, arrays, refs=None):
        return rpc.decode(tree, arrays, refs=refs, make_handle=self.make_handle,
                          make_namedtuple=lambda n, f, v: self.namedtuple_class(n, f)(*v))

    def _encode(self, value, blobs, states):
        def other(obj):
            if isinstance(obj, RemoteObject):
                remote, gen, hid, state = object.__getattribute__(obj, "_r")
                if remote is not self or gen != self.generation:
                    raise WorkerGone("an object made before the worker was restarted")
                if hid not in states:
                    states[hid] = state
                return {"t": "h", "id": hid, "cls": type(obj).__name__}
            raise BadReply(f"a {type(obj).__name__} cannot be sent to the worker")
        return rpc.encode(value, blobs, on_other=other)

    # -- calls -------------------------------------------------------------------------
    def call(self, target, args, kwargs, label):
        """Call ``target`` (``{"module", "name"}`` or ``{"handle", "method"}``) remotely."""
        if label in self.hung:
            raise CallTimeout(label, again=True)
        if not self.alive():
            self.start()
        blobs, states = [], {}
        if "handle" in target:
            self._encode(target.pop("obj"), blobs, states)
        args, kwargs = list(args), dict(kwargs)
        args_tree = self._encode(args, blobs, states)
        kwargs_tree = self._encode(kwargs, blobs, states)
        mirrors = list(states.items())
        header = {"op": "call", "target": target, "args": args_tree, "kwargs": kwargs_tree,
                  "states": [[hid, self._encode(state, blobs, {})] for hid, state in mirrors]}
        send_rng = self.random.dirty or self._rng_generation != self.generation
        header["rng"] = rpc.encode(self.random.get(), blobs) if send_rng else None
        self._rng_generation = self.generation
        # numbered as the worker's decoder collects them: states, then args, then kwargs
        refs = [o for _, state in mirrors for o in rpc.mutable_objects(state)]
        refs += rpc.mutable_objects(args) + rpc.mutable_objects(kwargs)
        try:
            reply, arrays = self.request(header, blobs, label)
        except CallTimeout:
            self.hung[label] = True
            raise CallTimeout(label) from None
        try:
            if "result" not in reply:
                raise BadReply("the worker could not run the call: "
                               + str(reply.get("exc", reply))[:300])
            result = self._decode(reply["result"], arrays, refs)
            for k, tree in _pairs(reply.get("after", [])):
                if not 0 <= k < len(refs):
                    raise rpc.ProtocolError("in-place change of an unknown argument")
                rpc.merge(refs[k], self._decode(tree, arrays, refs))
            if reply.get("rng") is not None:
                try:
                    self.random.set(self._decode(reply["rng"], arrays))
                except (ValueError, TypeError, KeyError) as exc:
                    raise rpc.ProtocolError(f"bad random state ({exc})") from None
            for hid, tree in _pairs(reply.get("states", [])):
                obj = self.make_handle(hid, "object")
                state = object.__getattribute__(obj, "_r")[3]
                new = self._decode(tree, arrays, refs) if tree is not None else {}
                if not isinstance(new, dict):
                    raise rpc.ProtocolError("an object's state must be a dict")
                rpc.merge(state, {k: v for k, v in new.items() if isinstance(k, str)})
        except (rpc.ProtocolError, KeyError, TypeError, ValueError) as exc:
            raise BadReply(str(exc)[:300]) from None
        if reply.get("exc") is not None:
            raise student_exception(reply["exc"])
        return result

    def getattr(self, obj, name):
        _, gen, hid, _ = object.__getattribute__(obj, "_r")
        if gen != self.generation or not self.alive():
            raise WorkerGone("an object made before the worker was restarted")
        reply, arrays = self.request({"op": "getattr", "handle": hid, "name": name}, [],
                                     f"{type(obj).__name__}.{name}")
        if reply.get("kind") == "method":
            label = f"{type(obj).__name__}.{name}"

            def method(*args, **kwargs):
                return self.call({"handle": hid, "method": name, "obj": obj}, args, kwargs,
                                 label)
            method.__name__ = method.__qualname__ = name
            return method
        if reply.get("kind") == "value":
            try:
                return self._decode(reply["value"], arrays)
            except (rpc.ProtocolError, KeyError) as exc:
                raise BadReply(str(exc)) from None
        if "exc" in reply:
            raise student_exception(reply["exc"])
        raise BadReply("malformed attribute reply")

    def describe(self, module, name):
        reply, arrays = self.request({"op": "describe", "module": module, "name": name}, [],
                                     f"{module}.{name}")
        return reply, arrays


def _pairs(items):
    if not isinstance(items, list):
        raise rpc.ProtocolError("expected a list of pairs")
    for pair in items:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int)):
            raise rpc.ProtocolError("expected [index, value] pairs")
        yield pair


class RemoteObject:
    """An object kept by the worker: attributes mirrored here, methods called there."""

    def __getattr__(self, name):
        if name.startswith("__") or name == "_r":
            raise AttributeError(name)
        remote, _, _, state = object.__getattribute__(self, "_r")
        if name in state:
            return state[name]
        return remote.getattr(self, name)

    def __setattr__(self, name, value):
        object.__getattribute__(self, "_r")[3][name] = value

    def __delattr__(self, name):
        object.__getattribute__(self, "_r")[3].pop(name, None)

    def __call__(self, *args, **kwargs):
        remote, _, hid, _ = object.__getattribute__(self, "_r")
        return remote.call({"handle": hid, "method": None, "obj": self}, args, kwargs,
                           type(self).__name__)

    def __repr__(self):
        return f"<{type(self).__name__} in the grading worker>"
