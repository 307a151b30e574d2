"""A script that configures logging itself, for launches with and without the distro.

``python good_guest_script.py MODE``; the planted secret comes from ``GG_SECRET``:

* ``file``: dictConfig with a file handler on the root logger and a stderr handler,
  records (one with a traceback), a warning, ``traceback.print_exc()``, then an uncaught
  exception (the default ``sys.excepthook``); stdout gets only the data line;
* ``cli``: no logging configuration; one httpx call to ``GG_URL``, then the response
  status as the only stdout line (a command-line tool whose stdout is its data);
* ``thread``: an uncaught exception in a thread, then the data line.
"""

from __future__ import annotations

import logging
import logging.config
import os
import sys
import threading
import traceback
import warnings


def file_mode(secret: str) -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"app": {"format": "APP %(levelname)s %(name)s %(message)s"}},
            "handlers": {
                "file": {"class": "logging.FileHandler", "filename": "app.log", "formatter": "app"},
                "err": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            },
            "root": {"handlers": ["file", "err"], "level": "DEBUG"},
        }
    )
    log = logging.getLogger("app.jobs")
    log.debug("starting job %s", 1)
    log.info("login password=%s", secret)
    # messages built from parts: the source lines in tracebacks show no key=value
    failed = " ".join(("connect failed", "=".join(("password", secret))))
    try:
        raise RuntimeError(failed)
    except RuntimeError:
        log.exception("job failed")
        traceback.print_exc()
    deprecated = " ".join(("deprecated", "=".join(("client_secret", secret))))
    warnings.warn(deprecated, UserWarning, stacklevel=1)
    print("data-line")
    sys.stdout.flush()
    raise SystemExit(main_crash(secret))


def main_crash(secret: str) -> int:
    fatal = " ".join(("fatal", "=".join(("api_key", secret))))
    raise ValueError(fatal)


def cli_mode(url: str) -> None:
    import httpx

    response = httpx.get(url)
    print(response.status_code)


def thread_mode(secret: str) -> None:
    lost = " ".join(("lost", "=".join(("password", secret))))

    def work() -> None:
        raise ConnectionError(lost)

    worker = threading.Thread(target=work, name="worker")
    worker.start()
    worker.join()
    print("data-line")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "file":
        file_mode(os.environ["GG_SECRET"])
    elif mode == "cli":
        cli_mode(os.environ["GG_URL"])
    else:
        thread_mode(os.environ["GG_SECRET"])
