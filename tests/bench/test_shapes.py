"""Reading the benchmark's shapes: kinds, their numbers and the presets (no server needed)."""

from __future__ import annotations

import pytest

from ctworkflow import errors
from tests.benchmarks.shapes import PRESETS, Kind, Shape, parse_shapes


def test_each_kind_is_read_with_its_number() -> None:
    shapes = parse_shapes("200x10,repo:1x50:10000,sandbox:1x50,hol:1x1:60,incremental:1x50")

    assert shapes == [
        Shape(200, 10),
        Shape(1, 50, Kind.REPOSITORY, 10000),
        Shape(1, 50, Kind.SANDBOX),
        Shape(1, 1, Kind.HEAD_OF_LINE, 60),
        Shape(1, 50, Kind.INCREMENTAL),
    ]
    assert [s.name for s in shapes] == [
        "200x10",
        "repo:1x50:10000",
        "sandbox:1x50",
        "hol:1x1:60",
        "incremental:1x50",
    ]
    assert shapes[1].to_json()["files"] == 10000
    assert shapes[3].to_json()["seconds"] == 60


def test_the_incremental_shape_may_give_its_agent_a_cost() -> None:
    free, paid = parse_shapes("incremental:1x50,incremental:1x50:2000")

    assert (free.argument, free.to_json()["agent_ms"], free.name) == (0, 0, "incremental:1x50")
    assert (paid.argument, paid.to_json()["agent_ms"]) == (2000, 2000)
    assert paid.name == "incremental:1x50:2000"


@pytest.mark.parametrize(
    "text",
    ["repo:1x50", "hol:1x1", "sandbox:1x50:3", "5x3:2", "teleport:1x5", "repo:1x5:0", "0x3"],
)
def test_a_shape_without_its_number_or_of_no_known_kind_is_refused(text: str) -> None:
    with pytest.raises(errors.InvalidInput, match="bad shape"):
        parse_shapes(text)


def test_the_smoke_selection_holds_the_repository_sandbox_and_incremental_shapes() -> None:
    kinds = {shape.kind for shape in parse_shapes("smoke")}

    assert {Kind.CHORD, Kind.REPOSITORY, Kind.SANDBOX, Kind.INCREMENTAL} <= kinds
    repository = [s.argument for s in parse_shapes("smoke") if s.kind is Kind.REPOSITORY]
    assert len(repository) == 2 and min(repository) < max(repository)
    for preset in PRESETS:
        assert parse_shapes(preset)
