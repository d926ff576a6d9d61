"""The grading kit (made once per run) and the fresh work folder of each submission.

The *kit* is everything grading needs besides a submission, in one folder (so that it can be
shipped as bytes to Dask workers on other machines, see :func:`pack_kit`)::

    kit/release/        the student release (instructor.release.build_student)
    kit/reference/      the reference notebooks: the repository's, executed with the solution
    kit/hidden/         the hidden tests and what they need (rubric [files] hidden_support)
    kit/kit.json        {"student_files", "notebooks", "hidden", "test_ids"}

``student_files`` are the code files a student may change (``STUDENT_CODE_FILES`` of
assignment/collect.py, the one list of them: what the submission zip holds; a test checks that
they are the files with solution regions); nothing else of a submission is used. (Importing
``assignment.collect`` imports the instructor's own, trusted copy of the package, never a
student's.)
``test_ids`` are the hidden tests' node ids as collected against the solution, so that a test
the student's code keeps from even being collected (an import error, say) still counts as
failed rather than vanishing from the rubric.

A *work folder* (:class:`Workspace`) is the release with the student's code files copied
over it, remade for every step; the reference notebooks, the student's notebooks and the
hidden tests are copied in by :mod:`instructor.grading.steps` only for the step that needs
them.

Reading a submission (:func:`read_submission`) never extracts an archive: it reads only the
wanted members, by path (a leading folder such as ``submission/`` is allowed), within size
limits, skipping symbolic links, so a crafted zip or folder cannot write outside the work
folder or make the grader copy a file it should not.
"""

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from assignment.collect import STUDENT_CODE_FILES
from instructor.grading import sandbox, sandbox_view
from instructor.grading.limits import MiB

REPORTER = Path(__file__).with_name("_pytest_reporter.py")
REPORTER_MODULE = "_grading_reporter"
WORKER = {"_grading_worker.py": Path(__file__).with_name("_worker.py"),
          "_grading_rpc.py": Path(__file__).with_name("_rpc.py")}
SANITIZER = "nbval_sanitize.cfg"
WORK_PREFIX = "cs231n-grade-"
MAX_FILE_BYTES = 50 * MiB
MAX_MEMBERS = 5000


class SubmissionError(ValueError):
    """A submission that cannot be graded at all (unreadable, empty); the message says why."""


# ------------------------------------------------------------------------------------------
# Kit
# ------------------------------------------------------------------------------------------

def _copy(src, dst):
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)


def collect_test_ids(release_root, hidden_root, hidden, solution_root, student_files):
    """Node ids of the hidden tests, collected in a copy of the solution (fast, no run)."""
    with tempfile.TemporaryDirectory(prefix="grade-collect-") as tmp:
        tmp = Path(tmp)
        shutil.copytree(release_root, tmp, dirs_exist_ok=True)
        for rel in hidden:
            _copy(hidden_root / rel, tmp / rel)
        # the solution's code, so that collection cannot fail on a stub
        for rel in student_files:
            _copy(solution_root / rel, tmp / rel)
        tests = [r for r in hidden if r.endswith(".py") and Path(r).name.startswith("test_")]
        if not tests:
            return []
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
             *tests], cwd=tmp, capture_output=True, text=True, timeout=600,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        ids = [line.strip() for line in proc.stdout.splitlines() if "::" in line]
        if proc.returncode not in (0, 5) or not ids:
            raise RuntimeError("collecting the hidden tests against the solution failed:\n"
                               + proc.stdout[-3000:] + proc.stderr[-2000:])
        return ids


def build_kit(repo, out, rubric, release_dir=None, reference_dir=None):
    """Make the kit folder ``out`` from the solution repository ``repo``.

    ``release_dir``: an existing student release to use (e.g. ``dist/student``); by default
    one is built with instructor.release. ``reference_dir``: where the reference notebooks
    are (default ``repo/notebooks``). Returns ``out``.
    """
    from instructor import release  # the release tool; imported late (heavy, optional in jobs)

    repo, out = Path(repo).resolve(), Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    out.chmod(0o700)   # hidden tests and reference outputs: the grader's eyes only
    if release_dir is None:
        release.build_student(repo, out / "release", given=rubric.given)
    else:
        shutil.copytree(release_dir, out / "release", symlinks=False)
    reference_dir = Path(reference_dir or repo / "notebooks")
    for nb in rubric.notebooks:
        src = reference_dir / nb
        if not src.is_file():
            raise ValueError(
                f"reference notebook {src} not found: the rubric ([files] notebooks) grades "
                f"{nb}; commit it executed with the solution, or fix the rubric")
        _copy(src, out / "reference" / nb)
    if (repo / "notebooks" / SANITIZER).exists():
        _copy(repo / "notebooks" / SANITIZER, out / "reference" / SANITIZER)
    hidden = list(release.hidden_test_files(repo))
    for rel in rubric.hidden_support:
        if (repo / rel).exists():
            hidden.append(rel)
    for rel in hidden:
        _copy(repo / rel, out / "hidden" / rel)
    (out / "hidden").mkdir(exist_ok=True)
    meta = {"student_files": list(STUDENT_CODE_FILES), "given": sorted(rubric.given),
            "notebooks": list(rubric.notebooks), "hidden": hidden, "test_ids": []}
    (out / "kit.json").write_text(json.dumps(meta, indent=1))
    if rubric.needs_tests:
        meta["test_ids"] = collect_test_ids(out / "release", out / "hidden", hidden, repo,
                                            meta["student_files"])
        (out / "kit.json").write_text(json.dumps(meta, indent=1))
    return out


def kit_meta(kit):
    return json.loads((Path(kit) / "kit.json").read_text())


def check_kit(kit, rubric):
    """Raise ValueError unless the kit folder ``kit`` (of an earlier run, ``--kit``) was built
    for what ``rubric`` grades: its notebooks, its given functions (the release inside the
    kit), and the hidden tests' ids when it grades hidden tests."""
    if not (Path(kit) / "kit.json").is_file():
        raise ValueError(f"--kit {kit}: not a grading kit (no kit.json); give the .kit "
                         "folder of an earlier run's output, or leave --kit out")
    meta = kit_meta(kit)
    built = {"notebooks": meta["notebooks"], "given": meta.get("given"),
             "hidden tests": bool(meta["test_ids"]) or not rubric.needs_tests}
    wanted = {"notebooks": list(rubric.notebooks), "given": sorted(rubric.given),
              "hidden tests": True}
    wrong = [f"{k}: kit {built[k]}, rubric {wanted[k]}" for k in built if built[k] != wanted[k]]
    if wrong:
        raise ValueError(f"--kit {kit} was built for another rubric ({'; '.join(wrong)}); "
                         "grade without --kit, which builds the kit for this rubric")


def pack_kit(kit):
    """The kit folder as bytes (a gzipped tar), to ship to Dask workers."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(kit, arcname=".")
    return buf.getvalue()


def unpack_kit(data, cache_root=None):
    """Unpack :func:`pack_kit` bytes once per worker machine; returns the kit folder."""
    import hashlib

    digest = hashlib.sha256(data).hexdigest()[:16]
    root = Path(cache_root or tempfile.gettempdir()) / f"cs231n-grade-kit-{digest}"
    if not (root / "kit.json").exists():
        tmp = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")
        try:
            tmp.rename(root)
        except OSError:   # another worker on this machine was faster
            shutil.rmtree(tmp, ignore_errors=True)
    return root


# ------------------------------------------------------------------------------------------
# Submissions
# ------------------------------------------------------------------------------------------

def _match(wanted, available):
    """The member of ``available`` (POSIX paths) that is ``wanted``, possibly under a leading
    folder; notebooks are also found by file name anywhere. None if absent."""
    hits = [a for a in available if a == wanted or a.endswith("/" + wanted)]
    if not hits and wanted.endswith(".ipynb"):
        name = PurePosixPath(wanted).name
        hits = [a for a in available if PurePosixPath(a).name == name
                and ".ipynb_checkpoints" not in a]
    return min(hits, key=len) if hits else None


def read_submission(source, wanted):
    """The wanted files of a submission: ``{relative path: bytes}``.

    ``source``: a zip file or a folder (path), or zip bytes. ``wanted``: relative POSIX paths.
    Raises :class:`SubmissionError` for an unreadable zip or when none of the wanted files is
    there.
    """
    found = {}
    if isinstance(source, (bytes, bytearray)) or Path(source).is_file():
        try:
            zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, (bytes, bytearray))
                                 else source)
        except (zipfile.BadZipFile, OSError) as exc:
            raise SubmissionError(f"not a readable zip file ({exc})") from None
        with zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > MAX_MEMBERS:
                raise SubmissionError(f"the zip holds {len(infos)} files, more than "
                                      f"{MAX_MEMBERS}")
            names = {PurePosixPath(i.filename.replace("\\", "/")).as_posix(): i for i in infos}
            for rel in wanted:
                hit = _match(rel, list(names))
                if hit is None:
                    continue
                info = names[hit]
                if info.file_size > MAX_FILE_BYTES:
                    raise SubmissionError(f"{hit} is {info.file_size} bytes, more than "
                                          f"{MAX_FILE_BYTES}")
                try:
                    data = zf.read(info)
                except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                    raise SubmissionError(f"cannot read {hit} from the zip ({exc})") from None
                found[rel] = data[:MAX_FILE_BYTES]
    elif Path(source).is_dir():
        root = Path(source)
        files = {}
        for dirpath, dirnames, filenames in os.walk(root):   # does not follow symlinks
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                p = Path(dirpath) / name
                if not p.is_symlink() and p.is_file():
                    files[p.relative_to(root).as_posix()] = p
                if len(files) > MAX_MEMBERS:
                    raise SubmissionError(f"the folder holds more than {MAX_MEMBERS} files")
        for rel in wanted:
            hit = _match(rel, list(files))
            if hit is not None and files[hit].stat().st_size <= MAX_FILE_BYTES:
                found[rel] = files[hit].read_bytes()
    else:
        raise SubmissionError(f"{source} is neither a zip file nor a folder")
    if not found:
        raise SubmissionError("the submission holds none of the files that are graded ("
                              + ", ".join(wanted) + ")")
    return found


def check_scratch(scratch=None):
    """The folder for work folders (created); a ValueError if the sandbox could not enter it."""
    scratch = Path(scratch or tempfile.gettempdir())
    scratch.mkdir(parents=True, exist_ok=True)
    closed = sandbox_view.closed_ancestor(scratch / "x")
    if closed is not None and sandbox.detect_isolation().switch_uid:
        raise ValueError(f"scratch folder {scratch} is inside {closed}, which other users "
                         "cannot enter, so the sandbox's uid could not reach its work "
                         "folder; pass --scratch with a folder under /tmp")
    return scratch


class Workspace:
    """The private folder of one submission, and its fresh work folder for each step.

    ``root`` (mode 0711, the grader's) holds ``tools/`` (the reporter plugin and the output
    sanitizer, readable but not writable by the sandbox) and ``work/``, remade from the kit
    by :meth:`fresh` before every step: whatever the student's code changed during one step
    (a test file, the sanitizer, a helper module of the release) is gone in the next.
    """

    def __init__(self, kit, files, scratch=None):
        self.kit = Path(kit)
        self.meta = kit_meta(kit)
        self.files = files
        scratch = check_scratch(scratch)
        self.root = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=scratch))
        self.root.chmod(0o711)   # the sandbox may pass through to work/, not list root
        self.tools = self.root / "tools"
        self.tools.mkdir()
        self.tools.chmod(0o755)
        shutil.copy2(REPORTER, self.tools / f"{REPORTER_MODULE}.py")
        for name, src in WORKER.items():
            shutil.copy2(src, self.tools / name)
        cfg = self.kit / "reference" / SANITIZER
        if cfg.exists():
            shutil.copy2(cfg, self.tools / SANITIZER)
        self.work = self.root / "work"

    def student_notebook(self, nb):
        """The student's notebook ``nb`` (bytes), or None if not handed in."""
        return self.files.get(f"notebooks/{nb}")

    def fresh(self, uid=None):
        """Remake ``work/``: the release with the student's code files over it.

        The release's own (blank) copies of the graded notebooks are removed; steps copy in
        the notebook they run. With ``uid`` (root only) the folder is given to that uid,
        except ``tests/``, which stays the grader's and read-only to the sandbox.
        """
        self.clean_work()
        shutil.copytree(self.kit / "release", self.work, symlinks=False)
        for rel in self.meta["student_files"]:
            if rel in self.files:
                (self.work / rel).parent.mkdir(parents=True, exist_ok=True)
                (self.work / rel).write_bytes(self.files[rel])
        for nb in self.meta["notebooks"]:
            (self.work / "notebooks" / nb).unlink(missing_ok=True)
        sandbox_view.make_home(self.work)
        return self.work

    def template(self):
        """A pristine work folder (:meth:`fresh`) kept at ``root/template``, the grader's
        (mode 0700): the verdict process copies it for every worker it starts."""
        self.fresh()
        dst = self.root / "template"
        shutil.rmtree(dst, ignore_errors=True)
        self.work.rename(dst)
        dst.chmod(0o700)
        return dst

    def trusted(self):
        """The verdict process's folder ``root/trusted`` (the grader's, mode 0700): the
        release's given files and the hidden tests; none of the student's files."""
        dst = self.root / "trusted"
        if not dst.exists():
            student = set(self.meta["student_files"]) | {
                f"notebooks/{nb}" for nb in self.meta["notebooks"]}
            release = self.kit / "release"

            def ignore(folder, names):
                rel = Path(folder).relative_to(release)
                return [n for n in names if (rel / n).as_posix() in student]
            shutil.copytree(release, dst, symlinks=False, ignore=ignore)
            dst.chmod(0o700)
            for rel in self.meta["hidden"]:
                _copy(self.kit / "hidden" / rel, dst / rel)
        return dst

    def add(self, rel, data=None, src=None):
        """Copy a file (bytes ``data`` or path ``src``) into the work folder at ``rel``."""
        dst = self.work / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src is not None and Path(src).is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src is not None:
            shutil.copy2(src, dst)
        else:
            dst.write_bytes(data)
        return dst

    def give(self, uid):
        """Hand the work folder to the sandbox uid (root only); see :meth:`fresh`."""
        if uid is None:
            return
        protected = self.work / "tests"
        for dirpath, dirnames, filenames in os.walk(self.work):
            here = Path(dirpath)
            inside = here == protected or protected in here.parents
            for name in dirnames + filenames:
                p = here / name
                if inside or p == protected:
                    os.lchown(p, 0, 0)
                    if not p.is_symlink():
                        p.chmod(0o755 if p.is_dir() else 0o644)
                else:
                    os.lchown(p, uid, uid)
        os.chown(self.work, uid, uid)
        self.work.chmod(0o700)

    def clean_work(self):
        if self.work.exists():
            shutil.rmtree(self.work, ignore_errors=True)

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


def remove_stale(scratch=None):
    """Remove work folders left by graders that were killed (their process is gone)."""
    scratch = Path(scratch or tempfile.gettempdir())
    removed = []
    for p in scratch.glob(f"{WORK_PREFIX}*-*"):
        pid = p.name[len(WORK_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
        except PermissionError:
            pass
    return removed


def wanted_files(kit):
    """What to take from a submission: the student code files and the notebooks."""
    meta = kit_meta(kit)
    return [*meta["student_files"], *(f"notebooks/{nb}" for nb in meta["notebooks"])]
