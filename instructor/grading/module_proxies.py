"""The student's modules in the trusted verdict process: proxies whose functions run in the worker.

TRUSTED SIDE: nothing here imports or executes the student's code. :func:`install` puts a
:class:`ModuleProxy` for each student module (``assignment.layers`` ...) into ``sys.modules``,
so the hidden tests import and call them unchanged; each function, class or object they get
is a stand-in that calls the sandboxed worker through :class:`instructor.grading.remote.Remote`.
Names come from the release's copy of the module, read with ``ast`` (:func:`release_names`).
"""

import ast
import sys
import types
from pathlib import Path


def release_names(path):
    """What the release's module at ``path`` defines at the top level, read with ``ast``
    (the instructor's code; nothing is executed): ``{name: ("function"|"class", None) or
    ("namedtuple", fields) or ("value", literal)}``."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    names = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = ("function", None)
        elif isinstance(node, ast.ClassDef):
            names[node.name] = ("class", None)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
            if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "namedtuple":
                try:
                    fields = ast.literal_eval(value.args[1])
                except (ValueError, IndexError, SyntaxError):
                    continue
                names[name] = ("namedtuple", tuple(fields))
                continue
            try:
                names[name] = ("value", ast.literal_eval(value))
            except (ValueError, SyntaxError, TypeError):
                continue
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.startswith("assignment."):
            for alias in node.names:   # re-exported from another student module
                names.setdefault(alias.asname or alias.name, ("import", node.module))
    return names


class ModuleProxy(types.ModuleType):
    """A student module (``assignment.layers``) whose functions run in the worker.

    Names are resolved from the release's copy of the module (so node ids, parametrized
    lists and constants are the instructor's, whatever the student's code renames); a
    name the release does not define is asked of the worker."""

    def __init__(self, name, remote, names):
        super().__init__(name)
        self.__file__ = f"<{name} in the grading worker>"
        object.__setattr__(self, "_remote", remote)
        object.__setattr__(self, "_names", names)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        remote, names = self._remote, self._names
        kind, extra = names.get(attr, (None, None))
        if kind == "import":
            value = getattr(sys.modules[extra], attr)
        elif kind == "function":
            value = remote_function(remote, self.__name__, attr)
        elif kind == "class":
            value = remote.class_for(self.__name__, attr)
        elif kind == "namedtuple":
            value = remote.namedtuple_class(attr, extra)
        elif kind == "value":
            value = extra
        else:
            value = self._ask(attr)
        setattr(self, attr, value)
        return value

    def _ask(self, attr):
        remote = self._remote
        reply, arrays = remote.describe(self.__name__, attr)
        kind = reply.get("kind")
        if kind == "function":
            return remote_function(remote, self.__name__, attr)
        if kind == "class":
            return remote.class_for(self.__name__, attr)
        if kind == "namedtuple":
            return remote.namedtuple_class(attr, [str(f) for f in reply.get("fields", [])])
        if kind == "value":
            return remote._decode(reply["value"], arrays)
        raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")


def remote_function(remote, module, name):
    def function(*args, **kwargs):
        return remote.call({"module": module, "name": name}, args, kwargs, name)
    function.__name__ = function.__qualname__ = name
    function.__module__ = module
    return function


def install(remote, modules, release):
    """Put a :class:`ModuleProxy` for each of ``modules`` (``assignment/layers.py`` ...)
    into ``sys.modules`` and onto its package; ``release``: the release folder."""
    proxies = {}
    for rel in modules:
        name = rel[:-3].replace("/", ".")
        proxy = ModuleProxy(name, remote, release_names(Path(release) / rel))
        sys.modules[name] = proxy
        remote.modules.append(name)   # each worker imports it first (Remote.broken)
        package, _, leaf = name.rpartition(".")
        if package:
            __import__(package)
            setattr(sys.modules[package], leaf, proxy)
        proxies[name] = proxy
    return proxies
