"""The command ``python -m instructor release``: its options and what it prints.

    python -m instructor release [--src DIR] [--out DIR] [--only student|solution] [--execute]
                                 [--rubric RUBRIC] [--colab-url URL]
"""

from pathlib import Path

from instructor import given as given_mod
from instructor.release import colab
from instructor.release.build import build_all
from instructor.release.errors import ReleaseError


def register(subparsers):
    """Add the `release` subcommand to instructor's argparse subparsers."""
    p = subparsers.add_parser(
        "release",
        help="write the student and solution releases",
        description="Build the student release and the solution release from the one "
        "solution source.",
    )
    p.add_argument("--src", default=".", help="the solution source tree (default: .)")
    p.add_argument("--out", default="dist", help="output folder (default: dist)")
    p.add_argument("--only", choices=("student", "solution"), help="build one release only")
    p.add_argument("--rubric", default=None,
                   help="the rubric whose [release] given list says which functions ship "
                   "implemented (default: SRC/instructor/rubric.toml)")
    p.add_argument(
        "--execute",
        action="store_true",
        help="re-run the notebooks of the solution release with nbclient (default: keep the "
        "outputs committed in the source, which nbval checks; byte-for-byte reproducible)",
    )
    p.set_defaults(func=main)
    colab.add_option(p)  # --colab-url URL: Open-in-Colab badges in the student notebooks


def main(args):
    """Run the release for parsed arguments; prints one line per release built."""
    src = Path(args.src).resolve()
    out = Path(args.out)
    if not out.is_absolute():
        out = src / out
    try:
        if args.rubric and not Path(args.rubric).is_file():
            raise ReleaseError(f"--rubric {args.rubric}: no such file")
        given = given_mod.read(args.rubric) if args.rubric else None
        builds = build_all(src, out, only=args.only, execute=args.execute, given=given)
    except given_mod.GivenError as e:  # the message names the file and the bad name
        raise ReleaseError(str(e)) from None
    colab.badge_release(builds.get("student"), args.colab_url)
    for name, b in builds.items():
        print(f"{name}: {len(b.files)} files, {b.stubs} regions -> {b.root} (+ {b.root}.zip)")
        for note in b.notes:
            print(f"  note: {note}")
    return 0
