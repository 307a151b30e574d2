"""An ASGI app whose import takes long: it touches ``$SLOW_IMPORT_MARKER``, then sleeps."""

from __future__ import annotations

import os
import time
from pathlib import Path

from examples.panel.app import app

Path(os.environ["SLOW_IMPORT_MARKER"]).touch()
time.sleep(float(os.environ.get("SLOW_IMPORT_SECONDS", "30")))

__all__ = ["app"]
