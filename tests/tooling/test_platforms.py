"""Where the student release runs besides a local checkout: Google Colab, pip (JupyterHub).

Every case runs in a throwaway virtual environment that sees this environment's installed
packages (a ``.pth`` line, so nothing is downloaded: PIP_NO_INDEX proves it) and nothing of
this repository, so an install into it cannot touch the shared ``.venv``.

* The first code cell of each notebook (the set-up cell), taken from the notebooks themselves,
  in a simulated Colab: a stand-in ``google.colab`` package whose ``drive.mount`` records the
  call, and ``/content`` replaced by a temporary folder. On a fresh "Drive" it fetches the
  release (a git repository standing in for the course's), installs it editable, and unpacks
  CIFAR-10 (the offline tarball) into its ``datasets/``; a second run reuses the copy and the
  data; outside Colab it only puts the folder above the notebook on ``sys.path``.
* ``pip install`` of the student release: ``assignment`` imports from site-packages, the
  ``assignment`` command runs (in a student's own copy it checks and collects that copy, as
  ``python -m assignment`` does), and both notebooks, copied away from any checkout, run to
  their first NotImplementedError, raised by the installed package and naming the function
  of the notebook's first section.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.cifar_fixtures import require_cifar10

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow   # end to end: `make test-fast` leaves it out
NOTEBOOKS = ("Dropout.ipynb", "BatchNormalization.ipynb")
TARBALL = Path(os.environ.get("CIFAR10_TARBALL")
               or Path.home() / ".cache/cs231n-cifar10-mirror/cifar-10-python.tar.gz")
DRIVE_COPY = "drive/MyDrive/cs231n/dropout-batchnorm"   # COLAB_FOLDER under /content
FAKE_DRIVE_MODULE = '''
import os
from pathlib import Path


def mount(mountpoint, force_remount=False):
    Path(mountpoint, "MyDrive").mkdir(parents=True, exist_ok=True)
    with open(os.environ["FAKE_COLAB_LOG"], "a") as log:
        log.write(f"mount {mountpoint}\\n")
'''
# Runs the set-up cell, then reports where `assignment` comes from.
RUN_CELL = '''
import json, sys
before = list(sys.path)
exec(compile(open(sys.argv[1]).read(), "setup-cell", "exec"))
import assignment
print("REPORT " + json.dumps({"file": assignment.__file__, "added": [
    p for p in sys.path if p not in before]}))
'''
# Runs a notebook with nbclient until its first error; prints that error.
RUN_NOTEBOOK = '''
import json, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
nb = nbformat.read(sys.argv[1], as_version=4)
try:
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(sys.argv[1]).parent)}}).execute()
    print("REPORT " + json.dumps(None))
except CellExecutionError as e:
    print("REPORT " + json.dumps({"ename": e.ename, "evalue": e.evalue, "text": str(e)}))
'''
FIRST_TODO = {"Dropout.ipynb": "dropout_forward",
              "BatchNormalization.ipynb": "batchnorm_forward"}


def run(cmd, cwd, env=None, check=True, timeout=600):
    merged = {**os.environ, "PIP_NO_INDEX": "1"}
    merged.pop("CIFAR10_DIR", None)   # the data goes where the code under test puts it
    merged.update(env or {})
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=merged, capture_output=True,
                          text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"{cmd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def report(proc):
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("REPORT ")][-1]
    return json.loads(line[len("REPORT "):])


def make_venv(path):
    """A virtual environment that sees this one's packages but not this repository."""
    run([sys.executable, "-m", "venv", "--without-pip", path], cwd=REPO)
    site = Path(path) / Path(sysconfig.get_paths()["purelib"]).relative_to(sys.prefix)
    (site / "shared-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return Path(path) / "bin" / "python", site


@pytest.fixture(scope="module")
def release(tmp_path_factory, student_release):
    """A copy of the session's student release (tests/tooling/conftest.py; the tree that
    ``python -m instructor release --only student`` writes, test_release checks that command),
    so what these tests write into it (a pip build, __pycache__) stays here."""
    out = tmp_path_factory.mktemp("release") / "student"
    shutil.copytree(student_release.root, out, symlinks=True)
    return out


def setup_cell():
    """The set-up cell (code cell 1), the same in both notebooks."""
    sources = []
    for name in NOTEBOOKS:
        cells = json.loads((REPO / "notebooks" / name).read_text())["cells"]
        sources.append("".join(cells[1]["source"]))
    assert sources[0] == sources[1], "the set-up cells of the two notebooks differ"
    return sources[0]


def fake_colab(tmp):
    """The stand-in ``google.colab`` package, in ``tmp/fake`` (put it on PYTHONPATH)."""
    fake = tmp / "fake" / "google" / "colab"
    fake.mkdir(parents=True)
    (fake.parent / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "drive.py").write_text(FAKE_DRIVE_MODULE)


def colab_cell(tmp, source):
    """The set-up cell with /content moved to tmp/content and COLAB_SOURCE set."""
    text = setup_cell()
    assert text.count('"/content/') >= 2 and 'COLAB_SOURCE = ""' in text
    text = text.replace('"/content/', f'"{tmp}/content/')
    text = text.replace('COLAB_SOURCE = ""', f"COLAB_SOURCE = {str(source)!r}")
    path = tmp / "colab_cell.py"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def colab(tmp_path_factory, release):
    if not TARBALL.is_file():
        pytest.skip(f"no offline CIFAR-10 tarball at {TARBALL}")
    tmp = tmp_path_factory.mktemp("colab")
    fake_colab(tmp)
    source = tmp / "course-repo"   # the release, as the course would publish it
    # (without a .git of the release's own: a checkout's `.git` file would make the git
    # commands below act on that checkout's repository)
    shutil.copytree(release, source, ignore=shutil.ignore_patterns(".git"))
    assert not (source / ".git").exists()
    git = ["git", "-c", "user.name=course", "-c", "user.email=course@example.org"]
    run([*git, "init", "-q"], cwd=source)
    run([*git, "add", "-A"], cwd=source)
    run([*git, "commit", "-qm", "release"], cwd=source)
    python, site = make_venv(tmp / "venv")
    (tmp / "content").mkdir()
    env = {"PYTHONPATH": str(tmp / "fake"), "FAKE_COLAB_LOG": str(tmp / "mounts.log"),
           "CIFAR10_TARBALL": str(TARBALL),
           "CIFAR10_MD5": Path(str(TARBALL) + ".md5").read_text().split()[0]}
    cell = colab_cell(tmp, f"file://{source}")
    first = run([python, "-c", RUN_CELL, cell], cwd=tmp / "content", env=env, timeout=900)
    data = tmp / "content" / DRIVE_COPY / "datasets" / "cifar-10-batches-py" / "test_batch"
    stamp = data.stat().st_mtime_ns if data.exists() else None
    shutil.rmtree(source)   # a second fetch would now fail
    second = run([python, "-c", RUN_CELL, cell], cwd=tmp / "content", env=env, timeout=900)
    return {"tmp": tmp, "python": python, "site": site, "first": first, "second": second,
            "data": data, "stamp": stamp, "drive": tmp / "content" / DRIVE_COPY}


@pytest.mark.slow
def test_colab_fresh_drive_fetches_installs_and_downloads(colab, release):
    drive = colab["drive"]
    assert (colab["tmp"] / "mounts.log").read_text().splitlines()[0] == \
        f"mount {colab['tmp']}/content/drive"
    assert (drive / "assignment" / "layers.py").read_bytes() == \
        (release / "assignment" / "layers.py").read_bytes()
    assert colab["stamp"] is not None, "CIFAR-10 was not unpacked into the Drive copy"
    assert report(colab["first"])["file"] == str(drive / "assignment" / "__init__.py")
    # the student is told which notebooks are the ones handed in (not one opened from GitHub)
    assert f"Work in {drive}: open its notebooks" in colab["first"].stdout
    # installed editable: a new process of that Python imports the Drive copy from anywhere
    proc = run([colab["python"], "-c", "import assignment; print(assignment.__file__)"],
               cwd=colab["tmp"])
    assert proc.stdout.strip() == str(drive / "assignment" / "__init__.py")
    # the installed numpy and matplotlib were kept, not reinstalled into the environment
    assert not [p for p in colab["site"].iterdir() if p.name.startswith(("numpy", "matplotlib"))]


@pytest.mark.slow
def test_colab_second_run_reuses_the_copy_and_the_data(colab):
    assert len((colab["tmp"] / "mounts.log").read_text().splitlines()) == 2
    assert colab["data"].stat().st_mtime_ns == colab["stamp"]
    assert "Extracting" not in colab["second"].stdout + colab["second"].stderr
    assert report(colab["second"])["file"] == str(colab["drive"] / "assignment" / "__init__.py")


def test_colab_without_a_copy_or_a_source_says_what_to_do(tmp_path):
    fake_colab(tmp_path)
    cell = colab_cell(tmp_path, "")
    (tmp_path / "content").mkdir()
    proc = run([sys.executable, "-c", RUN_CELL, cell], cwd=tmp_path / "content", check=False,
               env={"PYTHONPATH": str(tmp_path / "fake"),
                    "FAKE_COLAB_LOG": str(tmp_path / "mounts.log")})
    assert "FileNotFoundError" in proc.stderr
    assert "upload your copy of the assignment there, or set COLAB_SOURCE" in proc.stderr


def test_outside_colab_the_cell_only_finds_the_copy_next_to_the_notebook(release, tmp_path):
    cell = tmp_path / "cell.py"
    cell.write_text(setup_cell())
    proc = run([sys.executable, "-c", "import google.colab"], cwd=tmp_path, check=False)
    assert proc.returncode != 0, "this environment must not have google.colab"
    before = sorted((p, p.stat().st_mtime_ns) for p in release.rglob("*"))
    proc = run([sys.executable, "-c", RUN_CELL, cell], cwd=release / "notebooks")
    assert proc.stdout.startswith("REPORT "), proc.stdout   # the cell itself prints nothing
    got = report(proc)
    assert got == {"file": str(release / "assignment" / "__init__.py"), "added": [str(release)]}
    assert sorted((p, p.stat().st_mtime_ns) for p in release.rglob("*")) == before
    # no copy above the notebook (e.g. the package is installed): sys.path stays as it was
    (tmp_path / "alone" / "notebooks").mkdir(parents=True)
    code = RUN_CELL.replace("import assignment", "import json as assignment")
    got = report(run([sys.executable, "-c", code, cell], cwd=tmp_path / "alone" / "notebooks"))
    assert got["added"] == []


@pytest.fixture(scope="module")
def installed(tmp_path_factory, release):
    tmp = tmp_path_factory.mktemp("pip")
    python, site = make_venv(tmp / "venv")
    run([python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", release],
        cwd=tmp)
    return {"tmp": tmp, "python": python, "site": site}


@pytest.mark.slow
def test_pip_install_gives_the_package_and_the_command(installed):
    proc = run([installed["python"], "-c", "import assignment.layers as m; print(m.__file__)"],
               cwd=installed["tmp"])
    assert proc.stdout.strip() == str(installed["site"] / "assignment" / "layers.py")
    proc = run([installed["python"].parent / "assignment", "check", "dropout"],
               cwd=installed["tmp"], check=False)
    assert "TODO" in proc.stdout and "dropout_forward: not implemented yet" in proc.stdout


@pytest.mark.slow
def test_the_commands_act_on_the_copy_they_run_in_not_the_installed_one(installed, release):
    """A JupyterHub image installs the release; each student works in a copy of their own (an
    nbgitpuller clone). Run anywhere in that copy, both forms of the command check and collect
    the copy (here with dropout written), not the installed stubs; outside any copy, the
    installed package."""
    copy = installed["tmp"] / "student-copy"
    shutil.copytree(release, copy, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    shutil.copy(REPO / "assignment" / "layers.py", copy / "assignment" / "layers.py")
    commands = {"assignment": [installed["python"].parent / "assignment"],
                "python -m assignment": [installed["python"], "-m", "assignment"]}
    for form, command in commands.items():
        proc = run([*command, "check", "dropout"], cwd=copy / "notebooks", check=False)
        assert proc.returncode == 0, f"{form} check dropout:\n{proc.stdout}{proc.stderr}"
        assert "PASS" in proc.stdout and "TODO" not in proc.stdout, form
    proc = run([*commands["assignment"], "check", "dropout"], cwd=installed["tmp"], check=False)
    assert "dropout_forward: not implemented yet" in proc.stdout
    # collect looks in the copy, which lacks one notebook (the installed package lacks both)
    (copy / "notebooks" / NOTEBOOKS[0]).unlink()
    proc = run([*commands["assignment"], "collect"], cwd=copy / "notebooks", check=False)
    assert proc.returncode == 1 and "missing required files" in proc.stderr, proc.stderr
    assert proc.stderr.endswith(f":\n  - notebooks/{NOTEBOOKS[0]}\n"), proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_run_to_their_first_todo_on_the_installed_package(installed, release, name):
    data = require_cifar10()
    alone = installed["tmp"] / f"alone-{name}" / "notebooks"   # no checkout around it
    alone.mkdir(parents=True)
    shutil.copy(release / "notebooks" / name, alone / name)
    proc = run([installed["python"], "-c", RUN_NOTEBOOK, alone / name], cwd=alone,
               env={"CIFAR10_DIR": str(data)}, timeout=900)
    error = report(proc)
    assert error is not None and error["ename"] == "NotImplementedError", error
    assert error["evalue"].startswith(f"{FIRST_TODO[name]}: not implemented yet; see "
                                      f"notebooks/{name}")
    assert str(installed["site"] / "assignment" / "layers.py") in error["text"]


COLAB_URL = "https://colab.research.google.com/github/course-org/dropout-bn/blob/main"


def test_release_colab_url_badges_the_student_notebooks(release, tmp_path):
    import zipfile

    out = tmp_path / "dist"
    run([sys.executable, "-m", "instructor", "release", "--only", "student", "--out", out,
         "--colab-url", COLAB_URL + "/"], cwd=REPO)
    with zipfile.ZipFile(out / "student.zip") as zf:
        for name in NOTEBOOKS:
            path = out / "student" / "notebooks" / name
            assert zf.read(f"student/notebooks/{name}") == path.read_bytes()
            cells = json.loads(path.read_text())["cells"]
            assert "".join(cells[0]["source"]).startswith(
                "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                f"({COLAB_URL}/notebooks/{name})\n\n# ")
            assert 'COLAB_SOURCE = "https://github.com/course-org/dropout-bn.git"' in \
                "".join(cells[1]["source"])
            # without --colab-url: no badge, no source
            plain = json.loads((release / "notebooks" / name).read_text())["cells"]
            assert "colab-badge" not in "".join(plain[0]["source"])
            assert 'COLAB_SOURCE = ""' in "".join(plain[1]["source"])
    # the badges change nothing else: the notebooks' times stay the release's fixed ones
    assert path.stat().st_mtime == (out / "student" / "README.md").stat().st_mtime


def test_release_rejects_a_colab_url_it_cannot_use(tmp_path):
    proc = run([sys.executable, "-m", "instructor", "release", "--only", "student", "--out",
                tmp_path / "dist", "--colab-url", "https://example.org/notebooks"], cwd=REPO,
               check=False)
    assert proc.returncode == 2 and "--colab-url 'https://example.org/notebooks' is not of " \
        "the form https://colab.research.google.com/github/OWNER/REPO/blob/BRANCH" in proc.stderr
    assert not (tmp_path / "dist").exists()
