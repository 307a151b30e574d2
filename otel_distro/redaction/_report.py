"""What a redaction pass replaced: rule names and paths, never matched text."""

from __future__ import annotations

__all__ = ["RedactionReport"]


class RedactionReport:
    """Collects ``rule:path`` entries (deduplicated, capped) and counts per rule."""

    MAX_ENTRIES = 32

    __slots__ = ("_entries", "_taken", "by_rule", "count")

    def __init__(self) -> None:
        self._entries: dict[str, None] = {}
        self._taken: dict[str, int] = {}
        self.by_rule: dict[str, int] = {}
        self.count = 0

    def add(self, rule: str, path: str, times: int = 1) -> None:
        """Record ``times`` replacements by ``rule`` at ``path``."""
        self.count += times
        self.by_rule[rule] = self.by_rule.get(rule, 0) + times
        if len(self._entries) < self.MAX_ENTRIES:
            self._entries[f"{rule}:{path}" if path else rule] = None

    def take_new(self) -> dict[str, int]:
        """Counts added since the last call (so process totals never count twice)."""
        new = {rule: n - self._taken.get(rule, 0) for rule, n in self.by_rule.items()}
        self._taken = dict(self.by_rule)
        return {rule: n for rule, n in new.items() if n}

    @property
    def entries(self) -> tuple[str, ...]:
        """``rule:path`` strings in first-seen order (at most :attr:`MAX_ENTRIES`)."""
        return tuple(self._entries)

    def __bool__(self) -> bool:
        return self.count > 0

    def __repr__(self) -> str:
        return f"RedactionReport(count={self.count}, entries={list(self._entries)!r})"
