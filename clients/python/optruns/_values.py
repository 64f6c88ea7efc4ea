"""Turning Python values into what the REST contract accepts, and refusing what it would refuse."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re
from typing import Any, Dict, Mapping, Optional, Union

MAX_TEXT = 200
MAX_ERROR = 10_000
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")

Timestamp = Union[_dt.datetime, float, int, str]


def jsonable(value: Any, _depth: int = 0) -> Any:
    """A JSON-ready copy of ``value``: mappings and sequences recursively, DSPy ``Example``/``Prediction``
    through ``toDict()``, dataclasses and pydantic models as dicts, non-finite floats as null, NUL
    characters dropped (PostgreSQL's jsonb cannot hold them) and anything else as ``str(value)``."""
    if _depth > 32:
        return str(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, Mapping):
        return {str(k).replace("\x00", ""): jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, _depth + 1) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    to_dict = getattr(value, "toDict", None)
    if callable(to_dict):
        try:
            return jsonable(to_dict(), _depth + 1)
        except Exception:  # noqa: BLE001 - fall through to the other shapes
            pass
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        try:
            return jsonable(model_dump(), _depth + 1)
        except Exception:  # noqa: BLE001
            pass
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), _depth + 1)
    try:
        import numbers

        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            return jsonable(float(value), _depth + 1)
    except Exception:  # noqa: BLE001
        pass
    return str(value)


def json_object(value: Any, field: str) -> Optional[Dict[str, Any]]:
    """A JSON object for fields the contract wants as objects (config, metadata, params)."""
    if value is None:
        return None
    converted = jsonable(value)
    if not isinstance(converted, dict):
        raise TypeError(f"{field} must be a mapping, not {type(value).__name__}")
    return converted


def score(value: Any, field: str, percent: bool = False) -> Optional[float]:
    """A score as the contract stores it: a fraction in [0, 1] rounded to 4 decimals (NUMERIC(7,4)),
    so a re-sent score compares equal to the stored one. ``percent`` divides DSPy's 0-100 by 100."""
    if value is None:
        return None
    if isinstance(value, bool):
        value = 1.0 if value else 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{field} must be a number, not {type(value).__name__}") from None
    if not math.isfinite(number):
        raise ValueError(f"{field} must be finite, not {number}")
    if percent:
        number /= 100.0
    if number < 0 or number > 1:
        hint = " (a DSPy percentage? pass percent=True)" if 1 < number <= 100 and not percent else ""
        raise ValueError(f"{field} must be a fraction between 0 and 1, not {number}{hint}")
    return round(number, 4)


def non_negative(value: Any, field: str, *, integer: bool = False) -> Optional[Union[int, float]]:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{field} must be a number, not bool")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{field} must be a number, not {type(value).__name__}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{field} must be a finite number, 0 or more, not {value!r}")
    if integer:
        if not number.is_integer():
            raise ValueError(f"{field} must be a whole number, not {value!r}")
        return int(number)
    return number


def text(value: Any, field: str, max_length: int = MAX_TEXT, *, truncate: bool = False) -> Optional[str]:
    if value is None:
        return None
    result = str(value).replace("\x00", "")
    if len(result) > max_length:
        if not truncate:
            raise ValueError(f"{field} must be at most {max_length} characters")
        result = result[: max_length - 1] + "…"
    return result


MAX_TAGS = 50
MAX_TAG_LENGTH = 100
MAX_TAG_BYTES = 2000  # a run's tags together, as UTF-8: the server's order indexes carry them


def tags(values: Any, field: str = "tags") -> list:
    """A run's tags, within the server's limits: 50 tags of at most 100 characters, 2,000 bytes together."""
    result = [text(t, f"{field}[]", MAX_TAG_LENGTH) for t in values]
    if len(result) > MAX_TAGS:
        raise ValueError(f"{field}: at most {MAX_TAGS} tags, not {len(result)}")
    size = sum(len(t.encode("utf-8")) for t in result)
    if size > MAX_TAG_BYTES:
        raise ValueError(f"{field} must be at most {MAX_TAG_BYTES} bytes together as UTF-8, not {size}")
    return result


def trace_id(value: Any, field: str = "trace_id") -> Optional[str]:
    if value is None:
        return None
    result = format(value, "032x") if isinstance(value, int) else str(value).lower().replace("-", "")
    if not _TRACE_ID.match(result):
        raise ValueError(f"{field} must be 32 hex digits (a W3C trace id), not {value!r}")
    return result


def span_id(value: Any, field: str = "span_id") -> Optional[str]:
    if value is None:
        return None
    result = format(value, "016x") if isinstance(value, int) else str(value).lower()
    if not _SPAN_ID.match(result):
        raise ValueError(f"{field} must be 16 hex digits (a W3C span id), not {value!r}")
    return result


def timestamp(value: Optional[Timestamp], field: str) -> Optional[str]:
    """ISO-8601 UTC: a datetime (naive means UTC), seconds since the epoch, or a string passed as is."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = _dt.datetime.fromtimestamp(float(value), tz=_dt.timezone.utc)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")
    raise TypeError(f"{field} must be a datetime, epoch seconds or an ISO-8601 string")


def utc_now() -> str:
    return timestamp(_dt.datetime.now(_dt.timezone.utc), "now") or ""


def compact(fields: Mapping[str, Any]) -> Dict[str, Any]:
    """The fields that are set: the contract treats absent and null alike for optional fields."""
    return {k: v for k, v in fields.items() if v is not None}
