"""The reader interface every format implements: LogEntry, FormatOptions, LineFormat."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LogEntry", "FormatOptions", "LineFormat", "FormatError"]


class FormatError(ValueError):
    """A file cannot be read with the formats and options given; the message says what would help."""


@dataclass(slots=True)
class LogEntry:
    """What the importer needs from one access-log line."""

    target: bytes  # request target: path?query or absolute URL, log escaping undone
    ts: str | None = None  # UTC ISO 8601, e.g. 2026-10-01T07:00:01+00:00
    method: str | None = None
    status: int | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    #: The whole X-Forwarded-For list when the log gives one (``client_ip`` is its first
    #: address). Not stored: it holds more addresses than ``--redact client_ip`` covers.
    forwarded_for: str | None = None


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """User settings that configure a format: ``--log-format``, ``--url-field``, ``--time-field``."""

    log_format: str | None = None
    url_field: str | None = None
    time_field: str | None = None

    @classmethod
    def of(cls, value: FormatOptions | dict | None) -> FormatOptions:
        if value is None:
            return cls()
        if isinstance(value, FormatOptions):
            return value
        return cls(**{k: v for k, v in value.items() if v is not None})


class LineFormat:
    """A log format: a name, a detector, a parser and an optional per-file configuration.

    Subclasses implement :meth:`parse`, which returns a :class:`LogEntry`, ``None`` (a line of
    this format that is not a request: ordinary) or a human-readable rejection reason (``str``).
    """

    name: str = ""
    description: str = ""
    example: str = ""  # one-line example command for the docs
    #: True for formats whose lines are JSON objects (they may also come as one JSON array).
    json_lines: bool = False

    def matches(self, line: bytes) -> bool:
        """True when *line* is a request record of this format (used by detection)."""
        return isinstance(self.parse(line), LogEntry)

    def parse(self, line: bytes) -> LogEntry | None | str:  # pragma: no cover - interface
        raise NotImplementedError

    def configure(self, sample_lines: list[bytes], options: FormatOptions) -> LineFormat:
        """The instance to read one file with, configured from its first lines and *options*."""
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
