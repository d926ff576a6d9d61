"""Red-team fixture (INSTRUCTOR ONLY), issue 11 attack 6: hidden tests leak through the
feedback. Every function of ``layers.py`` raises an error whose message holds the source of
every calling frame and the values it sees (``inspect``), hoping the grader copies it into
the student-visible feedback."""

from tests.tooling.planting import append_to_layers

ATTACK = "stubs raise the calling tests' source and values (inspect) into the feedback"

CODE = '''

def _leak(*args, **kwargs):
    import inspect
    parts = []
    for frame in inspect.stack():
        try:
            parts.append(inspect.getsource(frame.frame))
        except (OSError, TypeError):
            pass
        parts.append(repr(frame.frame.f_locals)[:2000])
    raise RuntimeError("LEAK\\n" + "\\n".join(parts))


for _name in [n for n, v in list(globals().items())
              if callable(v) and getattr(v, "__module__", "") == __name__
              and not isinstance(v, type) and not n.startswith("_")]:
    globals()[_name] = _leak
'''


def plant(tree):
    append_to_layers(tree, CODE)
