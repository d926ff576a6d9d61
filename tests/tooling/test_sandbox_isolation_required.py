"""Attack 5 on the sandbox (issue 11): no isolation, no grading -- untrusted code is refused
without isolation unless the grader says --unsafe-no-isolation, and the grade command refuses
to start."""

import pytest

from instructor.grading import launch, sandbox
from instructor.grading.limits import Limits
from tests.tooling.sandbox_harness import PY

pytestmark = pytest.mark.slow   # end to end: `make test-fast` leaves it out


def test_without_isolation_untrusted_code_is_refused_unless_unsafe(tmp_path):
    bare = sandbox.Isolation(notes=("simulated: no namespaces",))
    marker = tmp_path / "ran"
    cmd = [PY, "-c", f"open({str(marker)!r}, 'w').write('x')"]
    res = launch.launch(bare, cmd, tmp_path, Limits(), None, None, None, (), None)
    assert "refusing to run untrusted code" in res.setup_error and not marker.exists()
    assert res.isolation[0].startswith("no isolation available")
    unsafe = sandbox.Isolation(unsafe=True, notes=("simulated",))
    res = launch.launch(unsafe, cmd, tmp_path, Limits(), None, None, None, (), None)
    assert res.returncode == 0 and marker.exists()
    assert res.isolation[0].startswith("UNSAFE: NO ISOLATION")


def test_grade_command_refuses_to_start_without_isolation(tmp_path, monkeypatch, capsys):
    from instructor.grading import cli

    monkeypatch.setattr(sandbox, "_detect", lambda: sandbox.Isolation(
        notes=("simulated: not root, no user namespaces",)))
    monkeypatch.setattr(sandbox, "_UNSAFE", [False])
    (tmp_path / "subs").mkdir()
    code = cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "GRADES")])
    err = capsys.readouterr().err
    assert code == 2 and "refusing to grade" in err and "--unsafe-no-isolation" in err
    assert "simulated: not root" in err
    assert not (tmp_path / "GRADES" / ".kit").exists()   # stopped before building anything
    sandbox.allow_unsafe()
    assert sandbox.detect_isolation().unsafe
    assert sandbox.detect_isolation().describe()[0].startswith("UNSAFE: NO ISOLATION")
