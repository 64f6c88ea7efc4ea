"""What the client checks and converts before anything is sent (no gateway needed)."""

from __future__ import annotations

import datetime as dt
import json
import math
import unittest

import support  # noqa: F401 - puts the package on the path

from optruns import _values as v
from optruns._http import Transport, _retry_after
from optruns.errors import BadRequestError, ConflictError, NotFoundError, ServerError, error_for


class TagTests(unittest.TestCase):
    def test_tags_are_refused_past_the_servers_limits(self):
        self.assertEqual(v.tags(["qa", "prod"]), ["qa", "prod"])
        self.assertEqual(len(v.tags([f"{i:02d}" + "x" * 38 for i in range(50)])), 50)  # 2,000 bytes: the limit
        with self.assertRaisesRegex(ValueError, "at most 100 characters"):
            v.tags(["x" * 101])
        with self.assertRaisesRegex(ValueError, "at most 50 tags"):
            v.tags([str(i) for i in range(51)])
        with self.assertRaisesRegex(ValueError, "2000 bytes together as UTF-8, not 2100"):
            v.tags([f"{i:02d}" + "é" * 49 for i in range(21)])  # 1,050 characters


class ScoreTests(unittest.TestCase):
    def test_percent_becomes_a_fraction_rounded_like_the_database(self) -> None:
        self.assertEqual(v.score(61.234567, "score", percent=True), 0.6123)
        self.assertEqual(v.score(0.5, "score"), 0.5)
        self.assertEqual(v.score(True, "score"), 1.0)

    def test_out_of_range_scores_are_refused_with_a_hint(self) -> None:
        with self.assertRaisesRegex(ValueError, "percent=True"):
            v.score(61.0, "score")
        with self.assertRaises(ValueError):
            v.score(-0.1, "score")
        with self.assertRaises(ValueError):
            v.score(math.nan, "score")
        with self.assertRaises(TypeError):
            v.score("high", "score")


class ValueTests(unittest.TestCase):
    def test_jsonable_copies_what_json_cannot_hold(self) -> None:
        class Thing:
            def __str__(self) -> str:
                return "thing"

        value = v.jsonable({"a": (1, 2.5, math.inf), "b\x00": "x\x00y", 3: Thing(), "d": dt.date(2026, 1, 2)})
        self.assertEqual(value, {"a": [1, 2.5, None], "b": "xy", "3": "thing", "d": "2026-01-02"})
        json.dumps(value, allow_nan=False)

    def test_ids_and_times(self) -> None:
        self.assertEqual(v.trace_id("4BF92F3577B34DA6A3CE929D0E0E4736"), "4bf92f3577b34da6a3ce929d0e0e4736")
        self.assertEqual(v.span_id(0xABC), "0000000000000abc")
        with self.assertRaises(ValueError):
            v.trace_id("nope")
        self.assertEqual(v.timestamp(dt.datetime(2026, 11, 26, 10, 0, 0), "t"), "2026-11-26T10:00:00Z")
        self.assertEqual(v.timestamp(0, "t"), "1970-01-01T00:00:00Z")

    def test_counts_must_be_whole_and_not_negative(self) -> None:
        self.assertEqual(v.non_negative(3.0, "n", integer=True), 3)
        with self.assertRaises(ValueError):
            v.non_negative(2.5, "n", integer=True)
        with self.assertRaises(ValueError):
            v.non_negative(-1, "n")


class ProtocolTests(unittest.TestCase):
    def test_retry_after_in_seconds_or_as_a_date(self) -> None:
        self.assertEqual(_retry_after("3"), 3.0)
        self.assertIsNone(_retry_after(None))
        self.assertEqual(_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0.0)

    def test_errors_are_typed_by_status_and_carry_the_problem(self) -> None:
        problem = {"title": "Invalid request", "status": 400, "errors": {"samples[0].score": ["Must be a fraction."]}}
        error = error_for(400, problem, method="POST", url="http://x/samples")
        self.assertIsInstance(error, BadRequestError)
        self.assertEqual(error.errors, {"samples[0].score": ["Must be a fraction."]})
        self.assertIn("samples[0].score", str(error))
        self.assertIsInstance(error_for(404, None, method="GET", url="u"), NotFoundError)
        self.assertIsInstance(error_for(409, {}, method="GET", url="u"), ConflictError)
        self.assertIsInstance(error_for(500, {}, method="GET", url="u"), ServerError)

    def test_bad_urls_are_refused(self) -> None:
        with self.assertRaises(ValueError):
            Transport("localhost:8080", "key")
        with self.assertRaises(ValueError):
            Transport("http://localhost:8080", "")


if __name__ == "__main__":
    unittest.main()
