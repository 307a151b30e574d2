"""A direct OTLP encoder put in place of an OTLP/HTTP exporter module's own.

The exporter modules build their request with a module-level function
(``encode_spans``, ``encode_logs``) and only serialize what it returns.
:class:`EncoderSwap` replaces that function with one that writes the bytes directly
(in slices, :mod:`._slices`) and hands the batch to the stock function when the direct
encoder fails: the stock one then decides, and raises, as it always did; when it
succeeds, the failure was the distro's own and is counted (:func:`internal_error`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from otel_distro._report import internal_error
from otel_distro._state import Slot, on_reset
from otel_distro.exporters._slices import sliced

__all__ = ["EncoderSwap"]


class _Encoded:
    """Stands in for the protobuf request: the exporters only serialize it."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def SerializeToString(self) -> bytes:
        return self._data

    def SerializePartialToString(self) -> bytes:
        return self._data


class EncoderSwap:
    """``module.attribute`` (an exporter's encode function) replaced by *direct*.

    *where* names the distro's failures; the stock function is kept in a process slot
    and put back by :meth:`restore` (also part of :func:`otel_distro._state.reset`).
    """

    def __init__(
        self, where: str, module: str, attribute: str, direct: Callable[[Iterable[Any]], bytes]
    ) -> None:
        self._module = module
        self._attribute = attribute
        self._stock: Slot[Any] = Slot(f"{where}.encoder", lambda: None)
        stock = self._stock

        def encode(batch: Sequence[Any]) -> Any:
            try:
                return _Encoded(direct(sliced(batch)))
            except Exception:
                original = stock.value
                encoded = original(batch) if original is not None else None
                internal_error(where)
                return encoded

        #: the function the exporter module calls while the swap is in force
        self.encode = encode
        on_reset(stock.name, self.restore)

    def use(self) -> bool:
        """Put :attr:`encode` in place (idempotent); False when the exporter is missing."""
        try:
            module = importlib.import_module(self._module)
        except ImportError:
            return False
        if self._stock.value is None:
            self._stock.value = getattr(module, self._attribute)
            setattr(module, self._attribute, self.encode)
        return True

    def restore(self) -> None:
        """Put the exporter's own function back."""
        stock = self._stock.value
        if stock is None:
            return
        setattr(importlib.import_module(self._module), self._attribute, stock)
        self._stock.value = None
