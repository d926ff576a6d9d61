"""Tests of the verdict layer's wire format (instructor/grading/_rpc.py): plain data round-trips
exactly, objects sent keep their identity, and malformed frames or values, oversized frames and
objects are protocol errors, never code run."""

import struct
from collections import namedtuple

import numpy as np
import pytest

from instructor.grading import _rpc as rpc


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
