"""bench/pytest_timing.py: pytest in a tree, timed, with the CPU of what it started."""

from bench.pytest_timing import time_pytest

BUSY_CHILD = '''
import subprocess, sys

def test_a_child_process_burns_cpu():
    subprocess.run([sys.executable, "-c",
                    "import time\\nend = time.process_time() + 0.5\\n"
                    "while time.process_time() < end: pass"], check=True)
'''


def test_counts_the_cpu_of_the_processes_pytest_started(tmp_path):
    (tmp_path / "test_busy.py").write_text(BUSY_CHILD)
    timed = time_pytest(["test_busy.py"], tmp_path)
    assert timed.passed, timed.output
    assert 0.5 <= timed.cpu and 0.5 <= timed.wall


def test_a_failing_run_says_so_with_its_output(tmp_path):
    (tmp_path / "test_fails.py").write_text("def test_no():\n    assert 1 == 2\n")
    timed = time_pytest(["test_fails.py"], tmp_path)
    assert not timed.passed
    assert "assert 1 == 2" in timed.output
