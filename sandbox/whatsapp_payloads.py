"""What the WhatsApp Cloud API accepts in a message Lookout sends, and the registered templates it may name.

``validate_message`` checks a ``POST /{phone-number-id}/messages`` body as Meta
does (text, interactive reply buttons / list / location request, template,
location, image) and returns the text the resident would read; anything Meta
refuses raises the ``GraphError`` Meta answers (100 for a malformed parameter,
131009 for interactive limits, 132000 / 132001 / 132018 for templates).
Limits: https://developers.facebook.com/docs/whatsapp/cloud-api/messages
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.whatsapp_errors import GraphError, invalid

# Meta's published limits for one message (characters).
MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_CAPTION = 1024
MAX_REPLY_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_LIST_ROWS = 10
MAX_LIST_SECTIONS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72

_MESSAGE_TYPES = ("text", "interactive", "template", "location", "image")
_INTERACTIVE_TYPES = ("button", "list", "location_request_message")
# Template parameters may not carry line breaks, tabs or more than four spaces in a row.
_BAD_PARAMETER_TEXT = re.compile(r"[\n\t]| {5,}")
_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


@dataclass(frozen=True)
class Template:
    """An approved message template, as registered in WhatsApp Manager.

    ``body`` uses Meta's ``{{1}}``, ``{{2}}`` placeholders; ``quick_replies``
    are the titles of its quick-reply buttons, in order.
    """

    name: str
    body: str
    languages: frozenset[str] = frozenset({"en", "en_GB"})
    quick_replies: tuple[str, ...] = ()
    category: str = "UTILITY"
    header: str | None = None  # "IMAGE": every send gives the picture as a header parameter

    @property
    def body_parameters(self) -> int:
        # Meta numbers placeholders from {{1}} without gaps, so the highest one is the count.
        return max((int(n) for n in _PLACEHOLDER.findall(self.body)), default=0)

    def render(self, parameters: list[str]) -> str:
        return _PLACEHOLDER.sub(lambda match: parameters[int(match.group(1)) - 1], self.body)


POLICE_ALERT = Template(
    name="police_alert",
    body="{{1}} alert for {{2}}:\n\n{{3}}\n\n{{4}}",
    quick_replies=("Send information", "Stop alerts", "👍 Useful", "👎 Not useful"),
)
# The same words under an IMAGE header: what an appeal with a photo is sent as outside the window.
POLICE_ALERT_PHOTO = Template(
    name="police_alert_photo",
    body=POLICE_ALERT.body,
    quick_replies=POLICE_ALERT.quick_replies,
    header="IMAGE",
)


def recipient(body: dict[str, Any]) -> str:
    """The ``wa_id`` a send is addressed to, from ``to`` in any international spelling."""
    if body.get("messaging_product") != "whatsapp":
        raise invalid("The parameter messaging_product is required.")
    if body.get("recipient_type", "individual") != "individual":
        raise invalid(f'Param recipient_type must be one of {{INDIVIDUAL}} - got "{body.get("recipient_type")}".')
    to = body.get("to")
    if not isinstance(to, str) or not to:
        raise invalid("The parameter to is required.")
    wa_id = re.sub(r"[\s()+-]", "", to)
    if not wa_id.isdigit() or not 7 <= len(wa_id) <= 15:
        raise invalid(f'Param to must be a phone number in international format - got "{to}".')
    return wa_id


def validate_message(
    body: dict[str, Any],
    template_named: Callable[[str], Template | None],
    media_exists: Callable[[str], bool],
) -> tuple[str, dict[str, Any], str]:
    """The message's type, its object, and the text the resident would read; raises GraphError.

    ``template_named`` and ``media_exists`` look up what the business has
    registered and uploaded on the stand-in.
    """
    kind = body.get("type", "text")
    if kind not in _MESSAGE_TYPES:
        choices = ", ".join(t.upper() for t in _MESSAGE_TYPES)
        raise invalid(f'Param type must be one of {{{choices}}} - got "{kind}".')
    content = body.get(kind)
    if not isinstance(content, dict):
        raise invalid(f"The parameter {kind} is required.")
    if kind == "template":
        shown = _template_shown(content, template_named)
    elif kind == "image":
        shown = _image_shown(content, media_exists)
    else:
        shown = {"text": _text_shown, "interactive": _interactive_shown, "location": _location_shown}[kind](content)
    return kind, content, shown


def quick_reply_payloads(components: list[Any]) -> dict[int, str]:
    """The payload the app set on each quick-reply button of a template send, by button index."""
    payloads: dict[int, str] = {}
    for component in components:
        if isinstance(component, dict) and component.get("sub_type") == "quick_reply":
            for parameter in component.get("parameters") or []:
                if parameter.get("type") == "payload":
                    payloads[int(component["index"])] = parameter["payload"]
    return payloads


def _text_shown(text: dict[str, Any]) -> str:
    body = text.get("body")
    if not isinstance(body, str) or not body:
        raise invalid("Param text['body'] is required.")
    if len(body) > MAX_TEXT:
        raise invalid(f"Param text['body'] must be at most {MAX_TEXT} characters long.")
    if not isinstance(text.get("preview_url", False), bool):
        raise invalid("Param text['preview_url'] must be a boolean.")
    return body


def _location_shown(location: dict[str, Any]) -> str:
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = location.get(key)
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
            or abs(value) > bound
        ):
            raise invalid(f"The parameter location['{key}'] is required and must be a number within ±{bound}.")
    return location.get("name") or location.get("address") or f"{location['latitude']},{location['longitude']}"


def _interactive_shown(interactive: dict[str, Any]) -> str:
    kind = interactive.get("type")
    if kind not in _INTERACTIVE_TYPES:
        choices = ", ".join(t.upper() for t in _INTERACTIVE_TYPES)
        raise invalid(f"Param interactive['type'] must be one of {{{choices}}} - got \"{kind}\".")
    text = (interactive.get("body") or {}).get("text")
    if not isinstance(text, str) or not text:
        raise invalid("The parameter interactive['body']['text'] is required.")
    header = interactive.get("header")
    if header is not None:
        kind_of_header = header.get("type") if isinstance(header, dict) else None
        if kind_of_header not in ("text", "image", "video", "document"):
            raise invalid("Param interactive['header']['type'] must be one of {TEXT, IMAGE, VIDEO, DOCUMENT}.")
        media = header.get(kind_of_header)
        if kind_of_header != "text" and not (isinstance(media, dict) and (media.get("link") or media.get("id"))):
            raise invalid(f"Param interactive['header']['{kind_of_header}'] must have a link or an id.")
    if len(text) > MAX_INTERACTIVE_BODY:
        raise invalid(f"Param interactive['body']['text'] must be at most {MAX_INTERACTIVE_BODY} characters long.")
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise invalid("The parameter interactive['action'] is required.")
    {"button": _check_reply_buttons, "list": _check_list, "location_request_message": _check_location_request}[kind](
        action
    )
    return text


def _check_reply_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_REPLY_BUTTONS:
        raise GraphError(
            131009, f"Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: {MAX_REPLY_BUTTONS}"
        )
    for index, button in enumerate(buttons):
        where = f"interactive['action']['buttons'][{index}]"
        if not isinstance(button, dict) or button.get("type") != "reply" or not isinstance(button.get("reply"), dict):
            raise invalid(f"Param {where}['type'] must be one of {{REPLY}}.")
        reply = button["reply"]
        if not isinstance(reply.get("id"), str) or not reply["id"]:
            raise invalid(f"The parameter {where}['reply']['id'] is required.")
        if not isinstance(reply.get("title"), str):
            raise invalid(f"The parameter {where}['reply']['title'] is required.")
        if not 1 <= len(reply["title"]) <= MAX_BUTTON_TITLE:
            raise GraphError(131009, f"Button title length invalid. Min length: 1, Max length: {MAX_BUTTON_TITLE}")


def _check_list(action: dict[str, Any]) -> None:
    label = action.get("button")
    if not isinstance(label, str) or not label:
        raise invalid("The parameter interactive['action']['button'] is required.")
    if len(label) > MAX_BUTTON_TITLE:
        raise GraphError(131009, f"Button title length invalid. Min length: 1, Max length: {MAX_BUTTON_TITLE}")
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= MAX_LIST_SECTIONS:
        raise GraphError(
            131009, f"Invalid sections count. Min allowed sections: 1, Max allowed sections: {MAX_LIST_SECTIONS}"
        )
    if len(sections) > 1 and not all(isinstance(s, dict) and s.get("title") for s in sections):
        raise invalid(
            "The parameter interactive['action']['sections'][]['title'] is required when there are several sections."
        )
    rows = [row for section in sections if isinstance(section, dict) for row in section.get("rows") or []]
    if len(rows) > MAX_LIST_ROWS:
        raise GraphError(131009, f"Total row count exceed max allowed count: {MAX_LIST_ROWS}")
    for row in rows:
        _check_list_row(row)


def _check_list_row(row: Any) -> None:
    if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not row["id"]:
        raise invalid("The parameter interactive['action']['sections'][]['rows'][]['id'] is required.")
    if not isinstance(row.get("title"), str) or not row["title"]:
        raise invalid("The parameter interactive['action']['sections'][]['rows'][]['title'] is required.")
    if len(row["title"]) > MAX_ROW_TITLE:
        raise GraphError(131009, f"Row title is too long. Max length is {MAX_ROW_TITLE}")
    if len(row.get("description", "")) > MAX_ROW_DESCRIPTION:
        raise GraphError(131009, f"Row description is too long. Max length is {MAX_ROW_DESCRIPTION}")


def _check_location_request(action: dict[str, Any]) -> None:
    if action.get("name") != "send_location":
        raise invalid("Param interactive['action']['name'] must be one of {SEND_LOCATION}.")


def _template_shown(content: dict[str, Any], template_named: Callable[[str], Template | None]) -> str:
    name = content.get("name")
    language = (content.get("language") or {}).get("code")
    if not isinstance(name, str) or not name:
        raise invalid("The parameter template['name'] is required.")
    if not isinstance(language, str) or not language:
        raise invalid("The parameter template['language']['code'] is required.")
    template = template_named(name)
    if template is None or language not in template.languages:
        raise GraphError(132001, f"template name ({name}) does not exist in {language}")
    components = content.get("components") or []
    if not isinstance(components, list):
        raise invalid("Param template['components'] must be an array.")
    parameters = _body_parameters(components)
    if len(parameters) != template.body_parameters:
        raise GraphError(
            132000,
            f"body: number of localizable_params ({len(parameters)}) does not match the expected number "
            f"of params ({template.body_parameters})",
        )
    _check_quick_reply_buttons(components, template)
    _check_header(components, template)
    return template.render(parameters)


def _check_header(components: list[Any], template: Template) -> None:
    """A template with an IMAGE header needs its picture in every send (by link or id); one without takes none."""
    headers = [c for c in components if isinstance(c, dict) and c.get("type") == "header"]
    if template.header is None:
        if headers:
            raise GraphError(132012, "Parameter format does not match format in the created template: header")
        return
    parameters = headers[0].get("parameters") if headers else None
    image = parameters[0].get("image") if isinstance(parameters, list) and parameters else None
    if not (isinstance(image, dict) and (isinstance(image.get("link"), str) or isinstance(image.get("id"), str))):
        raise GraphError(
            132012, "Parameter format does not match format in the created template: header needs an image"
        )


def _body_parameters(components: list[Any]) -> list[str]:
    texts: list[str] = []
    for component in components:
        if isinstance(component, dict) and component.get("type") == "body":
            texts.extend(_parameter_text(p) for p in component.get("parameters") or [])
    return texts


def _parameter_text(parameter: Any) -> str:
    if not isinstance(parameter, dict) or parameter.get("type") != "text":
        raise invalid("Param template['components'][]['parameters'][]['type'] must be one of {TEXT}.")
    text = parameter.get("text")
    if not isinstance(text, str) or not text.strip():
        raise invalid("Param template['components'][]['parameters'][]['text'] is required.")
    if _BAD_PARAMETER_TEXT.search(text):
        raise GraphError(132018, "Param text cannot have new-line/tab characters or more than 4 consecutive spaces")
    return text


def _check_quick_reply_buttons(components: list[Any], template: Template) -> None:
    for component in components:
        if not isinstance(component, dict) or component.get("type") != "button":
            continue
        if component.get("sub_type") != "quick_reply":
            raise invalid("Param template['components'][]['sub_type'] must be one of {QUICK_REPLY}.")
        index = component.get("index")
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if not str(index).isdecimal() or int(str(index)) >= len(template.quick_replies):
            raise GraphError(131009, f"Button at index {index} is not a quick reply button of template {template.name}")


def _image_shown(content: dict[str, Any], media_exists: Callable[[str], bool]) -> str:
    link, media_id = content.get("link"), content.get("id")
    if (link is None) == (media_id is None):
        raise invalid("Param image must have exactly one of link or id.")
    if link is not None and not (isinstance(link, str) and link.startswith(("http://", "https://"))):
        raise invalid("Param image['link'] is not a valid URL.")
    if media_id is not None and not media_exists(str(media_id)):
        raise invalid("Param image['id'] is not a valid whatsapp business account media attachment ID")
    caption = content.get("caption", "")
    if not isinstance(caption, str) or len(caption) > MAX_CAPTION:
        raise invalid(f"Param image['caption'] must be at most {MAX_CAPTION} characters long.")
    return caption
