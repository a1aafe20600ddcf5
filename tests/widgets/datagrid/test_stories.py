"""The gallery has every DataGrid story of the issue (tests/gallery renders them)."""

from __future__ import annotations

from gallery.stories.datagrid import COMPONENT


def test_the_issue_stories_exist() -> None:
    names = [s.name for s in COMPONENT.stories]
    assert names == [
        "PatientList",
        "AppointmentList",
        "SmallPageSize",
        "WithoutSorting",
        "WithoutFiltering",
        "WithoutPagination",
        "Minimal",
        "Loading",
        "Empty",
        "NoMatches",
        "Error",
        "HundredThousandRows",
        "MillionRowsContinuous",
    ]
    million = COMPONENT.story("MillionRowsContinuous").args
    assert million["rows"] == 1_000_000
    assert million["page_size"] == "continuous"
