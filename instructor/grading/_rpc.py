"""Wire format between the trusted verdict process and the sandboxed worker (both sides).

Standard library and numpy only: a copy of this file runs inside the sandbox next to
:mod:`instructor.grading._worker`, and the trusted side (:mod:`instructor.grading.remote`)
imports it from the repository. Nothing here ever unpickles: arrays travel as raw bytes with
their dtype (numbers, booleans and strings only, never objects) and shape, read back with
``np.frombuffer``; everything else as JSON. (``np.save``/``np.load(allow_pickle=False)``
would be as safe, but parsing the ``.npy`` header costs more than a whole call of a small
layer, and the hidden tests make thousands of calls.)

A *frame* is ``u64 length`` + payload; a payload is ``u32 header length`` + the JSON header
(with ``"arrays": [[dtype, shape], ...]``) + the arrays' bytes. Values in the header are
trees:

* ``None``, ``bool``, ``int``, ``float``, ``str`` as themselves;
* ``{"t": "list"|"tuple", "v": [...]}``, ``{"t": "dict", "v": [[key, value], ...]}``;
* ``{"t": "nd", "i": k}`` the k-th array, ``{"t": "np", "i": k}`` a numpy scalar (a 0-d array);
* ``{"t": "nt", "name", "fields", "v"}`` a namedtuple; ``{"t": "dtype", "v", "type"}`` a dtype
  or a numpy scalar type (``np.float32``);
* ``{"t": "h", "id", "cls"}`` an object kept by the worker (a handle);
* ``{"t": "ref", "i": k}`` the k-th mutable object (array, list, dict) of the request, so that
  a result holding an argument (``cache = (x, w, b)``) holds *that* object on the trusted side.

:func:`decode` validates as it goes (known tags, sizes, depth, no object arrays) and raises
:class:`ProtocolError` for anything else: a malformed reply is a failed check, never a crash.
"""

import json
import math
import struct

import numpy as np

MAX_FRAME = 256 << 20        # 256 MiB: far above any test's data (the largest is 8 MB)
MAX_DEPTH = 64
MAX_NODES = 1_000_000


class ProtocolError(ValueError):
    """A frame or value that does not follow the format above."""


class Handle:
    """A reference to an object kept on the worker side (the trusted side never sees it)."""

    def __init__(self, hid, cls):
        self.hid, self.cls = hid, cls


# ------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------

def _is_namedtuple(value):
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def encode(value, blobs, memo=None, on_other=None):
    """The JSON tree of ``value``; arrays are appended to ``blobs``.

    ``memo``: ``{id(obj): k}`` of objects to send as references; ``on_other(obj)``: the tree
    for an object that is not plain data (the worker makes a handle), default: an error.
    """
    def enc(v, depth):
        if depth > MAX_DEPTH:
            raise ProtocolError("value nested too deeply")
        if memo is not None and id(v) in memo:
            return {"t": "ref", "i": memo[id(v)]}
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int) and type(v) is int or type(v) is float:
            return v
        if isinstance(v, np.ndarray):
            if v.dtype.hasobject:
                raise ProtocolError("arrays of Python objects cannot be sent")
            blobs.append(v)
            return {"t": "nd", "i": len(blobs) - 1}
        if isinstance(v, np.generic):
            if v.dtype.hasobject:
                raise ProtocolError("numpy object scalars cannot be sent")
            blobs.append(np.asarray(v))
            return {"t": "np", "i": len(blobs) - 1}
        if isinstance(v, (int, float)):       # subclasses (bool done above)
            return int(v) if isinstance(v, int) else float(v)
        if isinstance(v, np.dtype):
            return {"t": "dtype", "v": v.str, "type": False}
        if isinstance(v, type) and issubclass(v, np.generic):
            return {"t": "dtype", "v": np.dtype(v).str, "type": True}
        if isinstance(v, Handle):
            return {"t": "h", "id": v.hid, "cls": v.cls}
        if _is_namedtuple(v):
            return {"t": "nt", "name": type(v).__name__, "fields": list(type(v)._fields),
                    "v": [enc(x, depth + 1) for x in v]}
        if isinstance(v, (list, tuple)):
            return {"t": "list" if isinstance(v, list) else "tuple",
                    "v": [enc(x, depth + 1) for x in v]}
        if isinstance(v, dict):
            return {"t": "dict", "v": [[enc(k, depth + 1), enc(x, depth + 1)]
                                       for k, x in v.items()]}
        if on_other is not None:
            return on_other(v)
        raise ProtocolError(f"a {type(v).__name__} cannot be sent")
    return enc(value, 0)


def decode(tree, arrays, refs=None, make_handle=None, make_namedtuple=None, collect=None):
    """The value of ``tree`` (made by :func:`encode`); ``arrays`` as read by :func:`unpack`.

    ``refs``: the objects ``{"t": "ref"}`` may name; ``make_handle(hid, cls)``,
    ``make_namedtuple(name, fields, values)`` build those kinds; ``collect``: a list that
    receives every mutable object decoded, in order (what the other side's ``memo`` numbers).
    """
    count = [0]

    def dec(t, depth):
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_NODES:
            raise ProtocolError("value nested too deeply or too large")
        if t is None or isinstance(t, (bool, int, float, str)):
            return t
        if not isinstance(t, dict) or not isinstance(t.get("t"), str):
            raise ProtocolError(f"unexpected value of type {type(t).__name__}")
        tag = t["t"]
        if tag in ("nd", "np"):
            i = t.get("i")
            if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(arrays):
                raise ProtocolError("array index out of range")
            a = arrays[i]
            if tag == "np":
                if a.ndim != 0:
                    raise ProtocolError("a numpy scalar must be a 0-d array")
                return a[()]
            if collect is not None:
                collect.append(a)
            return a
        if tag in ("list", "tuple"):
            items = _list(t.get("v"))
            if tag == "tuple":
                return tuple(dec(x, depth + 1) for x in items)
            out = []
            if collect is not None:
                collect.append(out)
            out.extend(dec(x, depth + 1) for x in items)
            return out
        if tag == "dict":
            out = {}
            if collect is not None:
                collect.append(out)
            for pair in _list(t.get("v")):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ProtocolError("a dict entry must be a [key, value] pair")
                key = dec(pair[0], depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise ProtocolError("a dict key must be hashable") from None
                out[key] = dec(pair[1], depth + 1)
            return out
        if tag == "nt":
            name, fields = t.get("name"), _list(t.get("fields"))
            values = [dec(x, depth + 1) for x in _list(t.get("v"))]
            if not isinstance(name, str) or not all(isinstance(f, str) for f in fields) \
                    or len(fields) != len(values):
                raise ProtocolError("malformed namedtuple")
            if make_namedtuple is None:
                return tuple(values)
            return make_namedtuple(name, tuple(fields), values)
        if tag == "dtype":
            try:
                dt = np.dtype(str(t.get("v")))
            except TypeError:
                raise ProtocolError(f"unknown dtype {t.get('v')!r}") from None
            if dt.hasobject:
                raise ProtocolError("object dtypes cannot be sent")
            return dt.type if t.get("type") else dt
        if tag == "h":
            if make_handle is None or not isinstance(t.get("id"), int):
                raise ProtocolError("unexpected handle")
            return make_handle(t["id"], str(t.get("cls", "object")))
        if tag == "ref":
            i = t.get("i")
            if refs is None or not isinstance(i, int) or not 0 <= i < len(refs):
                raise ProtocolError("reference out of range")
            return refs[i]
        raise ProtocolError(f"unknown tag {tag!r}")
    return dec(tree, 0)


def _list(v):
    if not isinstance(v, list):
        raise ProtocolError(f"expected a list, got {type(v).__name__}")
    return v


def memo_of(objects):
    """``{id(obj): k}`` for the mutable objects a request sent (see ``collect``)."""
    return {id(o): k for k, o in enumerate(objects)}


def mutable_objects(value):
    """The arrays, lists and dicts of ``value`` in the order :func:`decode` collects them."""
    out = []

    def walk(v):
        if isinstance(v, np.ndarray):
            out.append(v)
        elif _is_namedtuple(v) or isinstance(v, tuple):
            for x in v:
                walk(x)
        elif isinstance(v, list):
            out.append(v)
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            out.append(v)
            for k, x in v.items():
                walk(k)
                walk(x)
    walk(value)
    return out


# ------------------------------------------------------------------------------------------
# Frames
# ------------------------------------------------------------------------------------------

def pack(header, blobs):
    """One frame: the JSON ``header`` and the arrays ``blobs`` (their dtype and shape go
    into the header as ``"arrays"``, their bytes after it)."""
    metas, datas = [], []
    for a in blobs:
        if a.dtype.kind not in ARRAY_KINDS:
            raise ProtocolError(f"arrays of dtype {a.dtype} cannot be sent")
        datas.append(np.ascontiguousarray(a).tobytes())
        metas.append([a.dtype.str, list(a.shape)])
    head = json.dumps({**header, "arrays": metas}).encode()
    payload = b"".join([struct.pack("<I", len(head)), head, *datas])
    return struct.pack("<Q", len(payload)) + payload


ARRAY_KINDS = "biufcSU"    # bool, integers, floats, complex, bytes, str: never objects


def unpack(payload):
    """``(header, arrays)`` of a payload; :class:`ProtocolError` when malformed."""
    try:
        (n,) = struct.unpack_from("<I", payload, 0)
        header = json.loads(payload[4:4 + n].decode())
        if not isinstance(header, dict) or not isinstance(header.get("arrays"), list):
            raise ProtocolError("the header must be a JSON object with an array list")
        pos, arrays = 4 + n, []
        for meta in header.pop("arrays"):
            dtype, shape = np.dtype(str(meta[0])), tuple(meta[1])
            if dtype.kind not in ARRAY_KINDS or dtype.hasobject or not all(
                    type(d) is int and d >= 0 for d in shape) or len(shape) > 32:
                raise ProtocolError(f"an array of dtype {dtype} and shape {shape}")
            count = math.prod(shape)
            size = dtype.itemsize * count
            if pos + size > len(payload):
                raise ProtocolError("truncated array")
            arrays.append(np.frombuffer(payload, dtype, count, pos).reshape(shape).copy())
            pos += size
        if pos != len(payload):
            raise ProtocolError("trailing bytes after the arrays")
    except (struct.error, UnicodeDecodeError, ValueError, TypeError, IndexError,
            RecursionError) as exc:
        if isinstance(exc, ProtocolError):
            raise
        raise ProtocolError(f"malformed frame ({type(exc).__name__}: {exc})"[:300]) from None
    return header, arrays


def frame_length(prefix):
    """The payload length announced by an 8-byte frame prefix (checked against MAX_FRAME)."""
    (size,) = struct.unpack("<Q", prefix)
    if size > MAX_FRAME:
        raise ProtocolError(f"a frame of {size} bytes is larger than {MAX_FRAME}")
    return size


def merge(old, new, kept=None):
    """``new`` written into ``old`` in place where the two have the same structure (arrays of
    the same shape and dtype, dicts, lists), so that names bound to ``old`` see the change;
    returns the object to keep (``old``, or ``new`` when they cannot be merged).
    ``kept``: a dict that receives ``id(new part) -> kept object`` for every part merged."""
    out = new
    if old is new:
        out = old
    elif isinstance(old, np.ndarray) and isinstance(new, np.ndarray):
        if old.shape == new.shape and old.dtype == new.dtype and old.flags.writeable:
            old[...] = new
            out = old
    elif type(old) is dict and type(new) is dict:
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            old[key] = merge(old[key], value, kept) if key in old else value
        out = old
    elif type(old) is list and type(new) is list:
        if len(old) == len(new):
            for i, value in enumerate(new):
                old[i] = merge(old[i], value, kept)
        else:
            old[:] = new
        out = old
    if kept is not None:
        kept[id(new)] = out
    return out


class RandomTracker:
    """Notices calls of numpy's global random functions (``np.random.seed``, ``rand`` ...).

    Reading or writing the global state costs ~50-100 us, more than a call of a small layer;
    each side sends its state only when it may have changed since the last exchange. The
    module's functions are replaced by wrappers that set :attr:`dirty`; :meth:`get` and
    :meth:`set` use the originals, and do not set it.
    """

    def __init__(self):
        import numpy.random as npr

        self.dirty = True
        self._state = npr.mtrand._rand
        for name in dir(npr):
            fn = getattr(npr, name)
            if callable(fn) and name != "get_state" and (
                    name == "seed" or getattr(fn, "__self__", None) is self._state):
                setattr(npr, name, self._wrap(fn))

    def _wrap(self, fn):
        def wrapper(*args, **kwargs):
            self.dirty = True
            return fn(*args, **kwargs)
        wrapper.__name__ = wrapper.__qualname__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    def get(self):
        self.dirty = False
        return self._state.get_state()

    def set(self, state):
        self._state.set_state(state)
        self.dirty = False
