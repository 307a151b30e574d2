"""Logs from known lines and writes what each call site came out as, for launches with and
without the distro (``python callsite_script.py``; the result is ``callsite.json`` in the
working directory: per case, the parameters rendered and those of the calling line).

Cases: a structlog-native chain with ``CallsiteParameterAdder``; structlog over logging
with the adder in ``ProcessorFormatter`` (found from inside the handler); standard-library
records through ``foreign_pre_chain`` (``stacklevel=2`` from a helper); the application's
own ``logging.Formatter`` on a ``dictConfig`` root handler (``exception()`` included).
"""

from __future__ import annotations

import io
import json
import logging
import logging.config
from typing import Any

import structlog
from structlog.processors import CallsiteParameter, CallsiteParameterAdder, JSONRenderer
from structlog.stdlib import ProcessorFormatter

from tests.support.callsite import HOST_FIELDS, PARAMETERS, site

FIELDS = HOST_FIELDS
RECORD_KEYS = tuple(FIELDS)
ALL_KEYS = tuple(p.value for p in PARAMETERS)


def adder() -> CallsiteParameterAdder:
    return CallsiteParameterAdder(parameters=[CallsiteParameter(key) for key in ALL_KEYS])


def rendered(out: io.StringIO, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{k: json.loads(line).get(k) for k in keys} for line in out.getvalue().splitlines()]


def handler_on(name: str, formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, out


def native() -> dict[str, Any]:
    out = io.StringIO()
    log = structlog.wrap_logger(structlog.PrintLogger(out), processors=[adder(), JSONRenderer()])
    want = [site(keys=ALL_KEYS)]
    log.info("native")
    return {"got": rendered(out, ALL_KEYS), "want": want}


def over_stdlib() -> dict[str, Any]:
    formatter = ProcessorFormatter(
        processors=[adder(), ProcessorFormatter.remove_processors_meta, JSONRenderer()]
    )
    logger, out = handler_on("script.over_stdlib", formatter)
    log = structlog.wrap_logger(
        logger,
        processors=[ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    want = [site(keys=ALL_KEYS)]
    log.info("over stdlib")
    return {"got": rendered(out, ALL_KEYS), "want": want}


def log_for_caller(logger: logging.Logger) -> None:
    logger.warning("from a helper", stacklevel=2)


def foreign() -> dict[str, Any]:
    formatter = ProcessorFormatter(
        foreign_pre_chain=[adder()],
        processors=[ProcessorFormatter.remove_processors_meta, JSONRenderer()],
    )
    logger, out = handler_on("script.foreign", formatter)
    want = [site(keys=RECORD_KEYS)]
    log_for_caller(logger)
    return {"got": rendered(out, RECORD_KEYS), "want": want}


def host_formatter() -> dict[str, Any]:
    out = io.StringIO()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"host": {"format": "HOST|" + "|".join(FIELDS.values())}},
            "handlers": {
                "out": {"class": "logging.StreamHandler", "stream": out, "formatter": "host"}
            },
            "root": {"handlers": ["out"], "level": "INFO"},
        }
    )
    logger = logging.getLogger("script.host")
    want = [site(keys=RECORD_KEYS)]
    logger.info("host record")
    try:
        raise RuntimeError("failed")
    except RuntimeError:
        want.append(site(keys=RECORD_KEYS))
        logger.exception("failed")
    got = []
    for line in out.getvalue().splitlines():
        if line.startswith("HOST|"):
            values = line.split("|")[1:]
            got.append(
                {
                    key: int(value) if FIELDS[key].endswith("d") else value
                    for key, value in zip(FIELDS, values, strict=True)
                }
            )
    return {"got": got, "want": want}


def main() -> None:
    results = {
        "native": native(),
        "over_stdlib": over_stdlib(),
        "foreign": foreign(),
        "host_formatter": host_formatter(),
    }
    with open("callsite.json", "w", encoding="utf-8") as file:
        json.dump(results, file)


if __name__ == "__main__":
    main()
