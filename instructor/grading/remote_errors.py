"""What a call of the student's code raises on the trusted side (:mod:`instructor.grading.remote`).

An exception of the student's code comes back from the worker as its type name, the names
of its base classes and its message (never the object itself) and is raised here as a
subclass of the matching built-in type (``ValueError`` ...) and of :class:`StudentCodeError`
(:func:`student_exception`). A call past its deadline is a :class:`CallTimeout`, a worker that
ended a :class:`WorkerGone`, a reply off the wire format a :class:`BadReply`. All four are
ordinary exceptions of the test that made the call: one failed check, never a grader error
(:func:`instructor.grading.verdicts.classify` turns them into messages).
"""

import numpy as np


class StudentCodeError(Exception):
    """Mixin of every exception raised here on behalf of the student's code."""

    type_name = "Exception"
    student_message = ""


class CallTimeout(Exception):
    """A call of the student's code ran past its deadline; the worker was killed.
    ``again``: the function had already timed out, so it was not called at all."""

    def __init__(self, label, again=False):
        super().__init__(label)
        self.label, self.again = label, again


class WorkerGone(Exception):
    """The worker process ended (crash, limit, os._exit) or was restarted."""


class BadReply(Exception):
    """The worker's reply does not follow the wire format or cannot be used."""


SAFE_EXCEPTIONS = {cls.__name__: cls for cls in (
    ValueError, TypeError, NotImplementedError, KeyError, IndexError, LookupError,
    AttributeError, ZeroDivisionError, FloatingPointError, OverflowError, ArithmeticError,
    AssertionError, RuntimeError, MemoryError, RecursionError, OSError,
    np.linalg.LinAlgError)}
_EXC_CLASSES = {}


def student_exception(info):
    """The exception to raise for the student's exception ``info`` (from the worker)."""
    if not isinstance(info, dict):
        return BadReply("malformed exception report")
    mro = info.get("mro") if isinstance(info.get("mro"), list) else []
    base = next((SAFE_EXCEPTIONS[n] for n in mro if n in SAFE_EXCEPTIONS), RuntimeError)
    name = str(info.get("type", "Exception"))[:100]
    cls = _EXC_CLASSES.get((base, name))
    if cls is None:
        cls = type(name if name.isidentifier() else "StudentError", (base, StudentCodeError),
                   {"__module__": "student_code"})
        _EXC_CLASSES[(base, name)] = cls
    msg = str(info.get("msg", ""))[:2000]
    exc = cls(msg)
    exc.type_name, exc.student_message = name, msg
    return exc
