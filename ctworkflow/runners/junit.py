"""Read a pytest JUnit XML report (xunit1) into one TestReport per requested test file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from ctworkflow.domain.model import TestReport
from ctworkflow.runners.tally import TAIL_CHARS, Tally, tail

__all__ = ["TAIL_CHARS", "attribute", "case_id", "normalize", "parse_reports", "tail"]


def normalize(path: str) -> str:
    """Return a relative POSIX path without ``.`` segments or a leading ``./``."""
    return PurePosixPath(path).as_posix()


def case_id(case: ET.Element, path: str) -> str:
    """The id of a testcase within its file: ``Class::Inner::test_name[param]``, as pytest's
    node id reads after the file's path.

    xunit1 gives the dotted module path and classes in ``classname`` (``tests.test_user.
    TestUser``); the classes are what follows the file's own module name in it.
    """
    name = case.get("name") or ""
    dotted = [part for part in (case.get("classname") or "").split(".") if part]
    stem = PurePosixPath(path).stem
    after_stem = len(dotted) - dotted[::-1].index(stem) if stem in dotted else 0
    classes = dotted[after_stem:]
    return "::".join([*classes, name])


def _count(tally: Tally, case: ET.Element, path: str) -> None:
    """Count one testcase element of the file ``path``."""
    duration = _float(case.get("time"))
    error = case.find("error")
    failure = case.find("failure")
    test_id = case_id(case, path)
    if error is not None:
        tally.count("error", duration, _describe(case, "error", error), test_id)
    elif failure is not None:
        tally.count("failed", duration, _describe(case, "failure", failure), test_id)
    elif case.find("skipped") is not None:
        tally.count("skipped", duration, case_id=test_id)
    else:
        tally.count("passed", duration, case_id=test_id)


def _float(value: str | None) -> float:
    """Return value as a float, 0.0 if absent or malformed."""
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0


def _describe(case: ET.Element, kind: str, element: ET.Element) -> str:
    """Return a readable account of one failing or erroring testcase."""
    classname = case.get("classname") or ""
    name = case.get("name") or ""
    test_id = f"{classname}::{name}" if classname else name
    message = element.get("message") or ""
    text = element.text or ""
    return f"{test_id} {kind}: {message}\n{text}".rstrip()


def _from_dotted(dotted: str, requested: Iterable[str]) -> str | None:
    """Return the requested file a dotted ``a.b.c[.Class.test]`` path points to, if any."""
    wanted = set(requested)
    parts = [part for part in dotted.split(".") if part]
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end]) + ".py"
        if candidate in wanted:
            return candidate
    return None


def attribute(case: ET.Element, requested: Sequence[str]) -> str | None:
    """Return the normalized requested file a testcase belongs to, or None."""
    file_attr = case.get("file")
    if file_attr:
        path = normalize(file_attr)
        if path in requested:
            return path
    dotted = ".".join(part for part in (case.get("classname"), case.get("name")) if part)
    found = _from_dotted(dotted.split("[", 1)[0], requested)
    if found is None and len(requested) == 1:
        return requested[0]
    return found


def parse_reports(xml_text: str, requested: Sequence[str]) -> dict[str, TestReport] | None:
    """Return a report per normalized requested file that had a testcase; None if unreadable."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError:
        return None
    tallies: dict[str, Tally] = {}
    for case in root.iter("testcase"):
        path = attribute(case, requested)
        if path is not None:
            _count(tallies.setdefault(path, Tally()), case, path)
    return {path: tally.report() for path, tally in tallies.items()}
