"""Verified, resumable HTTP download of one file (used by `fetch.py`).

pooch does the verification: `pooch.retrieve` gives the downloader a temporary file in the
destination folder, checks its MD5 and only then renames it to the final name; on a mismatch it
deletes the temporary file. A file under the final name is therefore always complete and verified.

What pooch lacks is written here:
- resuming: `ResumableDownloader` streams into a persistent `<name>.<key>.part` file and, when one
  is left over from an interrupted attempt, asks the server for the rest with an HTTP `Range`
  request (falling back to a full download when the server ignores it). The `.part` suffix means
  a partial file is never mistaken for a complete one; the key binds it to one URL and checksum.
- retries with exponential backoff that the caller can configure (`pooch.retrieve` has no retry,
  `pooch.Pooch` retries with fixed sleeps of 1 s, 2 s, ...): `download` retries on connection
  errors, timeouts, truncated bodies and HTTP 408/429/5xx, never on 4xx or a checksum mismatch.
The progress bar is tqdm's, on stderr.
"""

import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

# HTTP statuses worth retrying: the server may answer differently a little later.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class DownloadError(RuntimeError):
    """A download failed for good (after retries); the message says why."""


class ChecksumError(DownloadError):
    """The downloaded file's MD5 differs from the expected one (the file has been removed)."""


class _IncompleteBody(OSError):
    """The server closed the connection before sending Content-Length bytes."""


def part_path(dest: Path, url: str, md5: str) -> Path:
    """Path of the partial file for `url` (expected `md5`) that will become `dest`.

    Inputs:
    - dest: final path of the file.
    - url, md5: source and expected checksum; a different pair gets a different partial file.

    Returns: `dest.parent / f"{dest.name}.{key}.part"`, key = 8 hex digits of sha1(url, md5).
    """
    key = hashlib.sha1(f"{url}\n{md5}".encode()).hexdigest()[:8]
    return dest.with_name(f"{dest.name}.{key}.part")


class ResumableDownloader:
    """pooch downloader that resumes an interrupted transfer with an HTTP Range request.

    Called by pooch as `downloader(url, output_file, pooch)`: streams `url` into `part` (appending
    to what an earlier attempt left there when the server honours `Range`), checks that the body
    has the announced length, then renames `part` onto pooch's temporary `output_file`, which
    pooch verifies and renames to the final name.

    Inputs:
    - part: Path of the persistent partial file (see `part_path`).
    - progressbar: bool, show a tqdm bar on stderr.
    - timeout: float, seconds for connecting and between received bytes.
    - chunk_size: int, bytes read at a time.
    - desc: str, label of the progress bar.
    """

    def __init__(self, part: Path, progressbar: bool = True, timeout: float = 30.0,
                 chunk_size: int = 1 << 16, desc: str = "download"):
        self.part = Path(part)
        self.desc = desc
        self.progressbar = progressbar
        self.timeout = timeout
        self.chunk_size = chunk_size

    def __call__(self, url: str, output_file: str, pooch) -> None:
        import requests  # pooch's own dependency; imported late to keep imports fast
        from tqdm import tqdm  # text bar on stderr (tqdm.auto would need ipywidgets)

        have = self.part.stat().st_size if self.part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        with requests.get(url, headers=headers, stream=True, timeout=self.timeout) as response:
            if have and response.status_code == 416:
                # The range is not satisfiable: the partial file is not a prefix of this file.
                self.part.unlink()
                raise _IncompleteBody("server refused to resume; restarting from zero")
            response.raise_for_status()
            resumed = have > 0 and response.status_code == 206
            if resumed and not response.headers.get("Content-Range", "").startswith(
                    f"bytes {have}-"):
                self.part.unlink()
                raise _IncompleteBody("server resumed at an unexpected offset; restarting")
            start = have if resumed else 0
            length = response.headers.get("Content-Length")
            total = start + int(length) if length is not None else None
            with open(self.part, "ab" if resumed else "wb") as out, tqdm(
                    total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                    desc=self.desc + (" (resumed)" if resumed else ""),
                    disable=not self.progressbar, leave=True) as bar:
                for chunk in response.iter_content(chunk_size=self.chunk_size):
                    out.write(chunk)
                    bar.update(len(chunk))
                out.flush()
                os.fsync(out.fileno())
        size = self.part.stat().st_size
        if total is not None and size != total:
            raise _IncompleteBody(f"got {size} of {total} bytes")
        os.replace(self.part, output_file)


def download(url: str, md5: str, dest: Path, *, retries: int = 4, backoff: float = 2.0,
             progressbar: bool = True, timeout: float = 30.0,
             log: Callable[[str], None] | None = None) -> Path:
    """Download `url` to `dest`, verified against `md5`, resuming and retrying on transient errors.

    If `dest` already exists with the right MD5 nothing is downloaded (pooch's behaviour).

    Inputs:
    - url: str, http(s) URL.
    - md5: str, 32 lowercase hex digits expected for the whole file.
    - dest: Path of the final file; its folder is created if needed.
    - retries: int >= 0, extra attempts after transient failures.
    - backoff: float, seconds before the first retry, doubled each time (capped at 60 s).
    - progressbar: bool, tqdm progress bar on stderr.
    - timeout: float, seconds (connect and read) for each request.
    - log: callable taking a message, told about each retry (None: silent).

    Returns: `dest` (complete and verified).

    Raises:
    - ChecksumError: the downloaded file has another MD5; it has been deleted.
    - DownloadError: a permanent HTTP error (e.g. 404) or transient errors after every retry;
      a partial file may remain as `part_path(...)` and is resumed by the next call.
    """
    import pooch
    import requests

    dest = Path(dest)
    part = part_path(dest, url, md5)
    downloader = ResumableDownloader(part, progressbar=progressbar, timeout=timeout,
                                     desc=dest.name)
    attempts = retries + 1
    pooch_logger = pooch.get_logger()
    for attempt in range(1, attempts + 1):
        level = pooch_logger.level
        pooch_logger.setLevel(logging.WARNING)  # we say what happens ourselves
        try:
            return Path(pooch.retrieve(url, known_hash=f"md5:{md5}", fname=dest.name,
                                       path=dest.parent, downloader=downloader))
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            reason = f"HTTP {status} from {url}"
            if status not in TRANSIENT_STATUS:
                raise DownloadError(reason) from exc
            error = exc
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError, _IncompleteBody) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            error = exc
        except requests.RequestException as exc:  # invalid URL and the like: permanent
            raise DownloadError(f"{type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # pooch: hash mismatch (it has deleted the file)
            raise ChecksumError(
                f"{url} does not have the expected MD5 {md5} ({exc}); "
                f"the downloaded file was removed") from exc
        finally:
            pooch_logger.setLevel(level)
        if attempt == attempts:
            raise DownloadError(f"{reason} (gave up after {attempts} attempts)") from error
        wait = min(backoff * 2 ** (attempt - 1), 60.0)
        if log is not None:
            log(f"download attempt {attempt}/{attempts} failed ({reason}); "
                f"retrying in {wait:.3g} s")
        time.sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises
