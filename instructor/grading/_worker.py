"""Inside-the-sandbox worker: runs the student's functions for the trusted verdict process.

UNTRUSTED SIDE. Run by :mod:`instructor.grading.remote` through
:func:`instructor.grading.sandbox.run` as ``python -m _grading_worker REQUESTS REPLIES`` in
the work folder (the release with the student's code), next to a copy of
:mod:`instructor.grading._rpc`. It imports the student's modules, answers one request frame
with one reply frame, and decides nothing: the trusted side draws the inputs, sends them,
and compares what comes back with the reference. Everything here may be replaced by the
student's code (it runs in this process); the trusted side treats every reply as data to
validate.

Requests (JSON headers, see ``_rpc``): ``describe`` (what a module attribute is),
``getattr`` (an attribute of a kept object), ``call`` (a module function or class, a kept
object or one of its methods, with arguments, numpy's global random state and the state of
kept objects; the reply carries the result, the arguments' in-place changes, the random
state and the kept objects' states after the call). Standard library and numpy only.
"""

import importlib
import os
import sys
import traceback

import _grading_rpc as rpc
import numpy as np


class Worker:
    def __init__(self):
        self.objects = {}     # handle id -> object
        self.ids = {}         # id(object) -> handle id
        self.random = rpc.RandomTracker()
        self.touched = set()  # handles sent in this reply

    # -- values ------------------------------------------------------------------------
    def handle_of(self, obj):
        hid = self.ids.get(id(obj))
        if hid is None:
            hid = len(self.objects) + 1
            self.objects[hid] = obj
            self.ids[id(obj)] = hid
        self.touched.add(hid)
        return {"t": "h", "id": hid, "cls": type(obj).__name__}

    def encode(self, value, blobs, memo=None):
        return rpc.encode(value, blobs, memo, on_other=self.handle_of)

    def decode(self, tree, arrays, collect=None):
        return rpc.decode(tree, arrays, make_handle=lambda hid, cls: self.objects[hid],
                          make_namedtuple=self.namedtuple, collect=collect)

    @staticmethod
    def namedtuple(name, fields, values):
        for mod in list(sys.modules.values()):
            cls = getattr(mod, name, None) if mod is not None else None
            if isinstance(cls, type) and getattr(cls, "_fields", None) == fields:
                return cls(*values)
        from collections import namedtuple
        return namedtuple(name, fields)(*values)

    def state(self, obj, blobs, memo):
        attrs = getattr(obj, "__dict__", None)
        return self.encode(dict(attrs), blobs, memo) if isinstance(attrs, dict) else None

    # -- requests ----------------------------------------------------------------------
    def describe(self, req, blobs):
        try:
            module = importlib.import_module(req["module"])
        except BaseException as exc:   # the student's module: any error is an answer
            return {"kind": "import-error", "error": _exc(exc)}
        name = req["name"]
        if not hasattr(module, name):
            return {"kind": "missing"}
        value = getattr(module, name)
        if isinstance(value, type) and hasattr(value, "_fields"):
            return {"kind": "namedtuple", "fields": list(value._fields)}
        if isinstance(value, type):
            return {"kind": "class"}
        if callable(value):
            return {"kind": "function"}
        return {"kind": "value", "value": self.encode(value, blobs)}

    def getattr(self, req, blobs):
        obj = self.objects[req["handle"]]
        value = getattr(obj, req["name"])
        if callable(value) and not isinstance(value, type):
            return {"kind": "method"}
        return {"kind": "value", "value": self.encode(value, blobs)}

    def call(self, req, arrays, blobs):
        received = []    # every array, list and dict of the request, in decoding order
        states = []
        for hid, tree in req.get("states", []):
            states.append((self.objects[hid], self.decode(tree, arrays, collect=received)))
        args = self.decode(req["args"], arrays, collect=received)
        kwargs = self.decode(req["kwargs"], arrays, collect=received)
        kept = {}
        for obj, new in states:   # in place, so that aliases inside the object stay valid
            for key, value in new.items():
                old = obj.__dict__.get(key, value)
                obj.__dict__[key] = rpc.merge(old, value, kept)
        targets = [kept.get(id(o), o) for o in received]
        snapshots = {k: (a.shape, a.dtype, a.tobytes()) for k, a in enumerate(targets)
                     if isinstance(a, np.ndarray)}
        self.touched = set()
        if req.get("rng") is not None:
            self.random.set(self.decode(req["rng"], arrays))
        target = req["target"]
        if "handle" in target:
            fn = self.objects[target["handle"]]
            if target.get("method"):
                fn = getattr(fn, target["method"])
        else:
            fn = getattr(importlib.import_module(target["module"]), target["name"])
        reply = {}
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:   # the student's exception is the answer
            reply["exc"] = _exc(exc)
            result = None
        memo = rpc.memo_of(targets)
        reply["result"] = self.encode(result, blobs, memo)
        after = []
        for k, obj in enumerate(targets):
            if isinstance(obj, np.ndarray):
                if (obj.shape, obj.dtype, obj.tobytes()) != snapshots[k]:
                    after.append([k, self.encode(obj, blobs)])
            else:
                after.append([k, self.encode(obj, blobs, {i: n for i, n in memo.items()
                                                          if i != id(obj)})])
        reply["after"] = after
        reply["rng"] = self.encode(self.random.get(), blobs) if self.random.dirty else None
        hids = {h for h, _ in req.get("states", [])} | self.touched
        reply["states"] = [[h, self.state(self.objects[h], blobs, memo)] for h in sorted(hids)]
        return reply

    def serve(self, requests, replies):
        while True:
            prefix = _read(requests, 8)
            if prefix is None:
                return
            payload = _read(requests, rpc.frame_length(prefix))
            header, arrays = rpc.unpack(payload)
            blobs = []
            try:
                op = header["op"]
                if op == "hello":
                    reply = {"pid": os.getpid()}
                elif op == "import":   # an exception here is the later calls' answer
                    for name in header.get("modules", []):
                        try:
                            importlib.import_module(name)
                        except BaseException:  # noqa: BLE001
                            pass
                    reply = {"imported": True}
                elif op == "describe":
                    reply = self.describe(header, blobs)
                elif op == "getattr":
                    reply = self.getattr(header, blobs)
                elif op == "call":
                    reply = self.call(header, arrays, blobs)
                else:
                    reply = {"error": f"unknown op {op!r}"}
            except BaseException as exc:   # a failure of the request itself
                blobs = []
                reply = {"exc": _exc(exc)}
            try:
                frame = rpc.pack(reply, blobs)
            except (TypeError, ValueError) as exc:   # e.g. a result that cannot be sent
                frame = rpc.pack({"exc": _exc(exc)}, [])
            _write(replies, frame)


def _exc(exc):
    return {"type": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__],
            "msg": str(exc)[:2000],
            "where": "".join(traceback.format_exception_only(type(exc), exc))[-2000:]}


def _read(fd, n):
    data = bytearray()
    while len(data) < n:
        chunk = os.read(fd, min(n - len(data), 1 << 20))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _write(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main(argv):
    requests = os.open(argv[1], os.O_RDONLY)
    replies = os.open(argv[2], os.O_WRONLY)
    sys.path.insert(0, os.getcwd())   # the work folder: the student's `assignment` package
    Worker().serve(requests, replies)


if __name__ == "__main__":
    main(sys.argv)
