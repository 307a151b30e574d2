"""SSEBroker's arguments: a bad one is a ValueError naming it, at construction."""

from __future__ import annotations

from typing import Any

import pytest

from tests.messaging.conftest import Flow


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"queue_size": 0}, "queue_size"),
        ({"queue_size": 2.5}, "queue_size"),
        ({"queue_size": True}, "queue_size"),
        ({"keepalive": 0}, "keepalive"),
        ({"keepalive": -1.0}, "keepalive"),
        ({"keepalive": float("nan")}, "keepalive"),
        ({"keepalive": "15"}, "keepalive"),
        ({"slow_subscriber": "block"}, "slow_subscriber"),
        ({"slow_subscriber_seconds": -0.5}, "slow_subscriber_seconds"),
        ({"slow_subscriber_seconds": float("inf")}, "slow_subscriber_seconds"),
    ],
)
def test_a_bad_argument_is_a_value_error_naming_it(
    flow: Flow, arguments: dict[str, Any], named: str
) -> None:
    """A zero or negative keep-alive would make an idle stream send comments in a busy loop."""
    values = {"name": "events", "queue_size": 10, **arguments}
    with pytest.raises(ValueError, match=f"^{named}="):
        flow.broker(values.pop("name"), values.pop("queue_size"), **values)


def test_good_arguments_are_kept(flow: Flow) -> None:
    broker = flow.broker(
        "events", 5, keepalive=0.5, slow_subscriber="disconnect", slow_subscriber_seconds=0
    )
    assert (broker.queue_size, broker.keepalive, broker.slow_subscriber) == (5, 0.5, "disconnect")
    assert broker.slow_subscriber_seconds == 0
