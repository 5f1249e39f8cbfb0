"""Slack's Block Kit rules, so the stand-in refuses what Slack refuses.

Slack checks the blocks of every message and modal an app sends and answers
``invalid_blocks`` / ``invalid_arguments`` with one line per problem, each
ending in a JSON pointer to the offending field. These functions find the
problems Slack would find in the parts of Block Kit Lookout uses, worded as
Slack words them; the stand-in (``sandbox.slack``) turns them into its answers.
Limits: https://api.slack.com/reference/block-kit/blocks and
https://api.slack.com/reference/surfaces/views.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SELECT_OPTIONS = 100


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["missing required field: view [json-pointer:/view]"]
    problems = []
    if view.get("type") != "modal":
        problems.append("must be one of: modal [json-pointer:/view/type]")
    for key, limit in (("title", 24), ("submit", 24), ("close", 24)):
        problems += _text_problems(view.get(key), f"/view/{key}", limit, required=key == "title")
    if len(str(view.get("private_metadata") or "")) > 3000:
        problems.append("must be less than 3001 characters [json-pointer:/view/private_metadata]")
    if len(str(view.get("callback_id") or "")) > 255:
        problems.append("must be less than 256 characters [json-pointer:/view/callback_id]")
    return problems + block_problems(view.get("blocks", []), "/view/blocks", MAX_VIEW_BLOCKS)


def block_problems(blocks: Any, pointer: str, max_blocks: int) -> list[str]:
    """Slack's own checks on the parts of Block Kit Lookout uses, worded as Slack words them."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    if len(blocks) > max_blocks:
        return [f"must be less than {max_blocks + 1} items [json-pointer:{pointer}]"]
    problems: list[str] = []
    for index, block in enumerate(blocks):
        where = f"{pointer}/{index}"
        if not isinstance(block, dict) or not block.get("type"):
            problems.append(f"missing required field: type [json-pointer:{where}]")
            continue
        problems += _oneblock_problems(block, where)
    return problems


def _oneblock_problems(block: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    kind = block["type"]
    if kind == "section":
        if block.get("text") is None and not block.get("fields"):
            problems.append(f"must provide either text or fields [json-pointer:{where}]")
        problems += _text_problems(block.get("text"), f"{where}/text", 3000)
        for i, item in enumerate(block.get("fields") or []):
            problems += _text_problems(item, f"{where}/fields/{i}", 2000)
    elif kind == "header":
        problems += _text_problems(block.get("text"), f"{where}/text", 150, required=True)
    elif kind == "actions" and len(block.get("elements") or []) > 25:
        problems.append(f"must be less than 26 items [json-pointer:{where}/elements]")
    elif kind == "input":
        problems += _text_problems(block.get("label"), f"{where}/label", 2000, required=True)
        problems += _text_problems(block.get("hint"), f"{where}/hint", 2000)
        if "dispatch_action" in block and not isinstance(block["dispatch_action"], bool):
            problems.append(f"must be a boolean [json-pointer:{where}/dispatch_action]")
        if not isinstance(block.get("element"), dict):
            problems.append(f"missing required field: element [json-pointer:{where}/element]")
    if len(str(block.get("block_id") or "")) > 255:
        problems.append(f"must be less than 256 characters [json-pointer:{where}/block_id]")
    for below, element in elements_of(block):
        if element.get("type") == "button":
            problems += _text_problems(element.get("text"), f"{where}{below}/text", 75, required=True)
            if len(str(element.get("value") or "")) > 2000:
                problems.append(f"must be less than 2001 characters [json-pointer:{where}{below}/value]")
        if len(str(element.get("action_id") or "")) > 255:
            problems.append(f"must be less than 256 characters [json-pointer:{where}{below}/action_id]")
        problems += _text_problems(element.get("placeholder"), f"{where}{below}/placeholder", 150)
        if element.get("type") in ("static_select", "multi_static_select"):
            problems += _select_problems(element, f"{where}{below}")
        if element.get("type") == "plain_text_input":
            problems += _text_input_problems(element, f"{where}{below}")
    return problems


def _select_problems(element: dict[str, Any], where: str) -> list[str]:
    options = element.get("options")
    if not isinstance(options, list) or not options:
        return [f"must provide either options or option_groups [json-pointer:{where}]"]
    if len(options) > MAX_SELECT_OPTIONS:
        return [f"must be less than {MAX_SELECT_OPTIONS + 1} items [json-pointer:{where}/options]"]
    problems: list[str] = []
    values = []
    for i, item in enumerate(options):
        item = item if isinstance(item, dict) else {}
        problems += _text_problems(item.get("text"), f"{where}/options/{i}/text", 75, required=True)
        value = item.get("value")
        if not isinstance(value, str) or not value:
            problems.append(f"missing required field: value [json-pointer:{where}/options/{i}/value]")
        elif len(value) > 150:
            problems.append(f"must be less than 151 characters [json-pointer:{where}/options/{i}/value]")
        values.append(value)
    chosen = (
        [element["initial_option"]]
        if isinstance(element.get("initial_option"), dict)
        else element.get("initial_options") or []
    )
    for i, item in enumerate(chosen):
        if not isinstance(item, dict) or item not in options:
            pointer = "initial_option" if "initial_option" in element else f"initial_options/{i}"
            problems.append(f"must match one of the options [json-pointer:{where}/{pointer}]")
    return problems


def _text_input_problems(element: dict[str, Any], where: str) -> list[str]:
    limit = element.get("max_length")
    if limit is not None and (not isinstance(limit, int) or not 1 <= limit <= 3000):
        return [f"must be between 1 and 3000 [json-pointer:{where}/max_length]"]
    return []


def _text_problems(text: Any, where: str, limit: int, *, required: bool = False) -> list[str]:
    if text is None:
        return [f"missing required field: text [json-pointer:{where}]"] if required else []
    if (
        not isinstance(text, dict)
        or text.get("type") not in {"plain_text", "mrkdwn"}
        or not isinstance(text.get("text"), str)
    ):
        return [f"must be a text object [json-pointer:{where}]"]
    if not text["text"]:
        return [f"must be more than 0 characters [json-pointer:{where}/text]"]
    if len(text["text"]) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{where}/text]"]
    return []


def elements_of(block: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The interactive elements of a block, each with its JSON pointer below the block."""
    if isinstance(block.get("elements"), list) and block.get("type") == "actions":
        yield from ((f"/elements/{i}", e) for i, e in enumerate(block["elements"]) if isinstance(e, dict))
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            yield f"/{key}", block[key]
