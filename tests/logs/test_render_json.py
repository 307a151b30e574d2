"""``render_clean_json``: one reused JSON encoder that writes exactly ``json.dumps``."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otel_distro.logging._render import render_clean_json

pytestmark = pytest.mark.usefixtures("clean_logging_state")


# --- render_clean_json ------------------------------------------------------------

json_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=False, allow_infinity=False)
    | json_text
    | st.sampled_from(['"', "\\", "\x00\x01\x1f\x7f", "\u2028\u2029", "\ud7ff\ue000", "</script>"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(json_text, json_values, max_size=8))
def test_render_clean_json_equals_json_dumps(event: dict[str, Any]) -> None:
    """The reused encoder writes exactly ``json.dumps`` (ASCII escapes, separators, numbers)."""
    rendered = render_clean_json(event)
    assert rendered == json.dumps(event)
    assert json.loads(rendered) == event


def test_render_clean_json_special_values() -> None:
    event = {
        "quote": 'say "hi"',
        "control": "a\nb\tc\x00\x1b",
        "non_ascii": "\u00e9\u4e2d\U0001f600",
        "big": 2**63,
        "neg_big": -(2**100),
        "floats": [0.1, -0.0, 1e300, 5e-324, 1.0],
        "nested": {"list": [[], {}, [{"a": None}]], "bool": [True, False]},
        "": "empty key",
    }
    assert render_clean_json(event) == json.dumps(event)


def test_render_clean_json_is_reentrant_across_threads() -> None:
    """One encoder object shared by every thread: each thread gets its own output."""
    errors: list[str] = []

    def work(n: int) -> None:
        for i in range(300):
            event = {"thread": n, "i": i, "items": [n] * (i % 7), "text": "x" * n}
            if render_clean_json(event) != json.dumps(event):
                errors.append(f"{n}/{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
