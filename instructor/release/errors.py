"""The release's error: every problem stops the build with the file (and line) to fix."""


class ReleaseError(ValueError):
    """A release problem, with the file (and line) to fix."""
