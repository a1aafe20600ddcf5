"""Deep links into the gallery: ``Component/Story`` plus args as JSON, checked like edits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gallery.story import Args, Component, Story


def resolve(
    components: Sequence[Component], name: str, args_json: str | None = None
) -> tuple[Component, Story, Args]:
    """The story ``name`` (``Component/Story``) and its args: the defaults with the JSON
    object ``args_json`` on top, each checked by its control.

    Raises:
        ValueError: no such story, args that are not a JSON object, an arg the story does
            not have, or a value its control refuses (the message names the arg and rule).
    """
    component_name, _, story_name = name.partition("/")
    component = next((c for c in components if c.name == component_name), None)
    story = None
    if component is not None:
        story = next((s for s in component.stories if s.name == story_name), None)
    if component is None or story is None:
        known = ", ".join(f"{c.name}/{s.name}" for c in components for s in c.stories)
        raise ValueError(f"story: no story {name!r}; the stories are: {known}")
    args = story.default_args()
    if args_json:
        try:
            given: Any = json.loads(args_json)
        except ValueError as exc:
            raise ValueError(f"args: not valid JSON ({exc})") from None
        if not isinstance(given, dict):
            raise ValueError('args: must be a JSON object such as {"text": "Save"}')
        controls = {c.name: c for c in story.controls()}
        for arg, value in given.items():
            if arg not in controls:
                raise ValueError(
                    f"args: {name} has no arg {arg!r}; its args are {', '.join(controls)}"
                )
            args[arg] = controls[arg].parse(value)
    return component, story, args
