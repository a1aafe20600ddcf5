"""JsonTree stories: a job's arguments, and a large value summarised."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.story import Component, Story
from widgets.json_tree import JsonTree


def render(args: Mapping[str, Any]) -> QWidget:
    """A tree of the story's data."""
    tree = JsonTree()
    tree.set_data(args["data"])
    return tree


COMPONENT = Component(
    name="JsonTree",
    widget=JsonTree,
    stories=(
        Story(
            name="Job arguments",
            render=render,
            args={
                "data": {
                    "args": ["owner@example.org", "Your appointment"],
                    "kwargs": {"patient": {"name": "Rex", "species": "dog"}, "attempt": 2},
                }
            },
            docs="Collapsible keys with their type; containers show how many members.",
            width=420,
        ),
        Story(
            name="Large values",
            render=render,
            args={"data": {"pdf": "JVBERi0x" * 400, "lines": list(range(500))}},
            docs="Long strings are cut with their length; long lists show 200 then a count.",
            width=420,
        ),
    ),
    matrix_states=("normal",),
    arg_docs={
        "data": "The JSON value shown as a tree (objects and lists expand).",
    },
)
