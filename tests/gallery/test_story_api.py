"""The story API: controls inferred from args, validation messages, module discovery."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from gallery.stories import load_components
from gallery.story import Component, Control, Story


def _label(args: object) -> QLabel:
    return QLabel("x")


def test_controls_are_inferred_from_default_types() -> None:
    story = Story(
        "S",
        _label,
        args={"kind": "a", "on": True, "n": 3, "f": 1.5, "t": "hi", "l": [1], "d": {"k": 1}},
        choices={"kind": ("a", "b")},
        ranges={"n": (1, 10)},
    )
    kinds = {c.name: c.kind for c in story.controls()}
    assert kinds == {
        "kind": "enum", "on": "bool", "n": "int", "f": "float", "t": "text", "l": "json",
        "d": "json",
    }  # fmt: skip
    n = next(c for c in story.controls() if c.name == "n")
    assert (n.minimum, n.maximum) == (1, 10)


@pytest.mark.parametrize(
    ("control", "value", "message"),
    [
        (Control("kind", "enum", "a", ("a", "b")), "c", "kind: must be one of a, b"),
        (Control("on", "bool", True), "yes", "on: must be true or false"),
        (Control("n", "int", 1, minimum=0, maximum=5), 9, "n: must be between 0 and 5"),
        (Control("n", "int", 1), "3", "n: must be a number"),
        (Control("items", "json", []), "[1,", "items: not valid JSON"),
        (Control("items", "json", []), '{"a": 1}', "items: must be a JSON list"),
        (Control("meta", "json", {}), "[]", "meta: must be a JSON object"),
        (Control("t", "text", ""), 5, "t: must be text"),
    ],
)
def test_bad_values_name_the_arg_and_the_rule(
    control: Control, value: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        control.parse(value)


def test_json_text_is_parsed() -> None:
    assert Control("items", "json", []).parse('["a", "b"]') == ["a", "b"]


def test_story_and_component_validate_their_declaration() -> None:
    with pytest.raises(ValueError, match="choices: names args the story lacks: nope"):
        Story("S", _label, args={}, choices={"nope": ("x",)})
    with pytest.raises(ValueError, match=r"args.kind: default 'z' is not a choice"):
        Story("S", _label, args={"kind": "z"}, choices={"kind": ("a",)})
    story = Story("S", _label)
    with pytest.raises(ValueError, match="stories: duplicate names in C: S"):
        Component("C", QLabel, (story, story))
    with pytest.raises(ValueError, match="matrix_states: unknown dancing"):
        Component("C", QLabel, (story,), matrix_states=("dancing",))


def test_default_args_are_fresh_copies() -> None:
    story = Story("S", _label, args={"items": ["a"]})
    first = story.default_args()
    first["items"].append("b")
    assert story.default_args() == {"items": ["a"]}


def test_a_new_story_module_is_discovered_without_editing_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "extra_stories"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "label.py").write_text(
        textwrap.dedent(
            """
            from PySide6.QtWidgets import QLabel
            from gallery.story import Component, Story

            COMPONENT = Component(
                name="Label",
                widget=QLabel,
                stories=(Story("Plain", lambda args: QLabel(args["text"]),
                               args={"text": "hi"}, docs="A label."),),
            )
            """
        )
    )
    (package / "_private.py").write_text("raise RuntimeError('must not be imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        components = load_components("extra_stories")
    finally:
        for name in [m for m in sys.modules if m.startswith("extra_stories")]:
            del sys.modules[name]
    assert [c.name for c in components] == ["Label"]
    assert components[0].story("Plain").docs == "A label."


def test_every_arg_of_every_story_is_described() -> None:
    """Storybook's args table: each control has a description (and its default)."""
    missing = [
        f"{component.name}.{name}"
        for component in load_components()
        for story in component.stories
        for name in story.args
        if not component.arg_docs.get(name)
    ]
    assert sorted(set(missing)) == []


def test_the_gallery_documents_at_least_fifteen_components() -> None:
    assert len(load_components()) >= 15
