"""Writing a release tree and its zip deterministically.

Files are written with fixed modes (0644, or 0755 for executables) and, once the tree is
complete, a fixed mtime (``SOURCE_DATE_EPOCH``, default 1980-01-01); the zip walks the tree in
sorted order with fixed entry metadata. Generating twice gives identical bytes.
"""

import os
import shutil
import stat
import zipfile
from pathlib import Path

from instructor.release.errors import ReleaseError

DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can carry


def _epoch():
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return DEFAULT_EPOCH
    try:
        return max(int(value), DEFAULT_EPOCH)
    except ValueError as e:
        raise ReleaseError(
            f"SOURCE_DATE_EPOCH is {value!r}, expected an integer number of seconds"
        ) from e


def fresh_dir(out):
    """The folder `out`, emptied (created if absent)."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return out


def write(root, rel, data, executable):
    """Write bytes `data` to root/rel (folders made as needed), mode 0755 or 0644."""
    target = Path(root) / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    os.chmod(target, 0o755 if executable else 0o644)


def fix_times(root):
    """Set every file's and folder's times under `root` to SOURCE_DATE_EPOCH (or 1980)."""
    t = _epoch()
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            os.utime(Path(dirpath) / name, (t, t))
        os.utime(dirpath, (t, t))


def write_zip(root, zip_path):
    """Zip the tree `root` deterministically (sorted entries, fixed times and modes)."""
    root = Path(root)
    zip_path = Path(zip_path)
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            entries.append(Path(dirpath) / name)
    tmp = zip_path.with_suffix(zip_path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(entries, key=lambda p: p.relative_to(root).as_posix()):
            info = zipfile.ZipInfo(f"{root.name}/{path.relative_to(root).as_posix()}",
                                   date_time=(1980, 1, 1, 0, 0, 0))
            mode = 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    os.replace(tmp, zip_path)
    return zip_path
