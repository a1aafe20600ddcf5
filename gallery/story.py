"""Stories as data: a ``Story`` renders a widget from args; a ``Component`` groups them.

A story module (``gallery/stories/<widget>.py``) defines ``COMPONENT = Component(...)``;
the gallery window, the static export and the tests all read stories from there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from gallery.play import Step

ControlKind = Literal["enum", "bool", "int", "float", "text", "json"]

#: Every state the state matrix knows; a component lists the ones that apply to it.
STATES: Final = ("normal", "hover", "focus", "pressed", "disabled", "loading")

Args = dict[str, Any]
Render = Callable[[Mapping[str, Any]], QWidget]


@dataclass(frozen=True)
class Control:
    """How the controls panel edits one arg (derived from the default value and choices).

    Attributes:
        name: the arg's name.
        kind: enum (combo), bool (checkbox), int/float (spin box), text (line edit) or
            json (a JSON editor for lists and dicts).
        default: the story's value, restored by "reset".
        choices: the allowed values of an enum.
        minimum/maximum: the range of a number.
    """

    name: str
    kind: ControlKind
    default: Any
    choices: tuple[str, ...] = ()
    minimum: float = 0
    maximum: float = 100_000

    def parse(self, value: Any) -> Any:
        """``value`` checked and converted for this control.

        Raises:
            ValueError: naming the arg and the rule (e.g. "items: must be a JSON list").
        """
        if self.kind == "enum":
            if value not in self.choices:
                raise ValueError(f"{self.name}: must be one of {', '.join(self.choices)}")
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{self.name}: must be true or false")
            return value
        if self.kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{self.name}: must be a number")
            if not self.minimum <= value <= self.maximum:
                raise ValueError(
                    f"{self.name}: must be between {self.minimum:g} and {self.maximum:g}"
                )
            return int(value) if self.kind == "int" else float(value)
        if self.kind == "text":
            if not isinstance(value, str):
                raise ValueError(f"{self.name}: must be text")
            return value
        if isinstance(value, str):
            value = self._parse_json(value)
        if _depth(value) > MAX_JSON_DEPTH:
            raise ValueError(f"{self.name}: nested too deeply (at most {MAX_JSON_DEPTH} levels)")
        expected = type(self.default)
        if not isinstance(value, expected):
            noun = "list" if expected is list else "object"
            raise ValueError(f"{self.name}: must be a JSON {noun}")
        return value

    def _parse_json(self, text: str) -> Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{self.name}: not valid JSON ({exc.msg} at {exc.pos})") from None
        except RecursionError:
            raise ValueError(
                f"{self.name}: nested too deeply (at most {MAX_JSON_DEPTH} levels)"
            ) from None
        except ValueError as exc:  # Python's limit on digits of an int
            if "4300" in str(exc) or "digits" in str(exc):
                reason = "a number of more than 4300 digits"
            else:
                reason = str(exc)
            raise ValueError(f"{self.name}: not valid JSON ({reason})") from None


#: Deeper JSON is refused: Python's JSON reader and writer recurse (about 1,000 levels).
MAX_JSON_DEPTH: Final = 64


def _depth(value: Any, limit: int = MAX_JSON_DEPTH + 1) -> int:
    """How deeply ``value`` nests lists and dicts (counting stops past ``limit``)."""
    if not isinstance(value, list | dict) or limit <= 0:
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(child, limit - 1) for child in children), default=0)


@dataclass(frozen=True)
class Story:
    """One named example of a widget, rendered from ``args``.

    Args:
        name: shown in the tree (e.g. "Primary"); unique within its component.
        render: builds the widget from the current args.
        args: default values; their types choose the controls (see ``Control``).
        choices: allowed values per arg, which makes that arg an enum (a combo box).
        ranges: (minimum, maximum) per numeric arg.
        docs: one or two sentences on what the story shows.
        code: the code snippet for given args; by default ``Widget(arg=value, ...)``.
        width: the canvas width in pixels the story is designed for (an int arg named
            ``width``, when the story has one, overrides it: a width control).
        play: a scripted interaction (``gallery.play.Step``s) run by the gallery's Play
            and as a test.
    """

    name: str
    render: Render
    args: Mapping[str, Any] = field(default_factory=dict)
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    docs: str = ""
    code: Callable[[Mapping[str, Any]], str] | None = None
    width: int = 420
    play: Sequence[Step] = ()

    def __post_init__(self) -> None:
        unknown = set(self.choices) - set(self.args)
        if unknown:
            raise ValueError(f"choices: names args the story lacks: {', '.join(sorted(unknown))}")
        for name, options in self.choices.items():
            if self.args[name] not in options:
                raise ValueError(f"args.{name}: default {self.args[name]!r} is not a choice")

    def controls(self) -> list[Control]:
        """One control per arg, in the order the args are declared."""
        controls = []
        for name, value in self.args.items():
            low, high = self.ranges.get(name, (0, 100_000))
            if name in self.choices:
                kind: ControlKind = "enum"
            elif isinstance(value, bool):
                kind = "bool"
            elif isinstance(value, int):
                kind = "int"
            elif isinstance(value, float):
                kind = "float"
            elif isinstance(value, str):
                kind = "text"
            elif isinstance(value, list | dict):
                kind = "json"
            else:
                raise TypeError(f"args.{name}: unsupported type {type(value).__name__}")
            controls.append(
                Control(name, kind, value, tuple(self.choices.get(name, ())), low, high)
            )
        return controls

    def canvas_width(self, args: Mapping[str, Any] | None = None) -> int:
        """The width to show the story at: its ``width`` arg if it has one, else ``width``."""
        value = (args or {}).get("width")
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        return self.width

    def default_args(self) -> Args:
        """A fresh copy of the default args (lists and dicts copied too)."""
        return json.loads(json.dumps(dict(self.args)))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Component:
    """A widget and its stories.

    Args:
        name: the tree's top-level label (e.g. "Button").
        widget: the widget class (its docstring and Qt properties feed the Docs tab).
        stories: the stories, in tree order.
        matrix_rows: (label, args) rows of the state matrix, rendered by the first story.
        matrix_states: the states that apply to this widget (subset of ``STATES``).
        arg_docs: what each arg of the stories does (Storybook's args table): the Docs
            tab and the export list every arg with its default, current value and this.
    """

    name: str
    widget: type[QWidget]
    stories: Sequence[Story]
    matrix_rows: Sequence[tuple[str, Mapping[str, Any]]] = ()
    matrix_states: Sequence[str] = ("normal", "disabled")
    arg_docs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [story.name for story in self.stories]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"stories: duplicate names in {self.name}: {', '.join(duplicates)}")
        bad = [state for state in self.matrix_states if state not in STATES]
        if bad:
            raise ValueError(f"matrix_states: unknown {', '.join(bad)}")

    def story(self, name: str) -> Story:
        """The story called ``name``.

        Raises:
            KeyError: no such story.
        """
        for story in self.stories:
            if story.name == name:
                return story
        raise KeyError(f"{self.name} has no story {name!r}")

    def snippet(self, story: Story, args: Mapping[str, Any]) -> str:
        """Python that reproduces ``story`` with ``args``."""
        if story.code is not None:
            return story.code(args)
        parts = [f"{key}={value!r}" for key, value in args.items()]
        call = f"{self.widget.__name__}({', '.join(parts)})"
        if len(call) > 88:
            inner = "".join(f"\n    {part}," for part in parts)
            call = f"{self.widget.__name__}({inner}\n)"
        return f"from {self.widget.__module__} import {self.widget.__name__}\n\n{call}\n"
