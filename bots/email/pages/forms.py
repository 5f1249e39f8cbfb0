"""Reading and checking what people type into the pages, with messages fit to show next to each field.

Messages follow the GOV.UK pattern: they say what to do ("Enter an email
address like name@example.com"), and each names the field it belongs to so
the page can list them at the top and link each to its input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from starlette.datastructures import FormData

from core.errors import InvalidInput
from core.force import ALL_TOPICS, ForceConfig, settle_topics
from core.geocoding import MAX_QUERY_LENGTH
from core.model import Address, Channel
from core.services.tips import MAX_CONTACT, MAX_TIP_TEXT

# What a place is to the person, as the Telegram bot offers it; stored as its label.
PLACE_LABELS: dict[str, str] = {"home": "Home", "work": "Work", "school": "School", "other": "Other"}
MAX_EMAIL_LENGTH = 254  # RFC 5321's path limit less the angle brackets
MAX_MOBILE_LENGTH = 30  # "+44 (0) 7700 900 123" and room for stray spaces
# How the alerts reach the person: email, or text message where SMS is on.
CHANNELS = ("email", "sms")
# UK mobile numbers (Ofcom's numbering plan): 07 and nine digits, in the 071-075 and 077-079 ranges, or 07624
# (the Isle of Man). 070 is personal numbering and the rest of 076 pagers: neither receives texts from us.
_UK_MOBILE = re.compile(r"07(?:[1-57-9]\d{8}|624\d{6})")
_SEPARATORS = re.compile(r"[\s.\-()/]")
MOBILE_EXAMPLE = "07700 900123"


@dataclass(frozen=True)
class Problem:
    field: str
    anchor: str  # the id of the input the error summary links to
    message: str


@dataclass
class Problems:
    """What is wrong with a form, in the order the fields appear."""

    items: list[Problem] = field(default_factory=list)

    def add(self, name: str, message: str, anchor: str | None = None) -> None:
        if self.get(name) is None:
            self.items.append(Problem(name, anchor or name, message))

    def get(self, name: str) -> str | None:
        return next((p.message for p in self.items if p.field == name), None)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)


def email_address(text: str) -> Address:
    """The address an email subscription is stored under; ``InvalidInput`` on ``email`` otherwise."""
    typed = text.strip()
    if not typed:
        raise InvalidInput.one("email", "Enter your email address.")
    if len(typed) > MAX_EMAIL_LENGTH:
        raise InvalidInput.one("email", "That email address is too long. Enter an address like name@example.com.")
    try:
        # Syntax only: a lookup of the domain's mail servers would make the page wait on DNS, and the
        # confirmation email proves the address works far better than any lookup can.
        checked = validate_email(typed, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput.one(
            "email", "Enter an email address in the correct format, like name@example.com."
        ) from None
    # An internationalised domain is stored in its ASCII (IDNA) form, which every relay accepts.
    normalised = (checked.ascii_email or checked.normalized).lower()
    try:
        return Address(Channel.EMAIL, normalised)
    except InvalidInput:
        # Valid addresses with quotes, apostrophes or accents: the address store cannot hold them.
        raise InvalidInput.one(
            "email",
            "Sorry, we can't send to this address yet: it has characters such as apostrophes or accents. "
            "Please use another address.",
        ) from None


def mobile_number(text: str) -> Address:
    """The address an SMS subscription is stored under (E.164, ``+447700900123``) from a UK mobile number typed in any
    usual form (``07700 900123``, ``+44 7700 900123``, ``+44 (0)7700 900123``, ``0044 7700 900123``,
    ``447700900123``); ``InvalidInput`` on ``mobile`` otherwise."""
    typed = text.strip()
    if not typed:
        raise InvalidInput.one("mobile", f"Enter your mobile phone number, like {MOBILE_EXAMPLE}.")
    if len(typed) > MAX_MOBILE_LENGTH:
        raise InvalidInput.one("mobile", f"That number is too long. Enter a UK mobile number, like {MOBILE_EXAMPLE}.")
    compact = _SEPARATORS.sub("", typed.replace("(0)", ""))
    international = compact.startswith(("+", "00"))
    if international and not compact.startswith(("+44", "0044")):
        raise InvalidInput.one(
            "mobile", f"We can only send texts to UK mobile numbers. Enter one like {MOBILE_EXAMPLE}."
        )
    if international:
        national = "0" + compact.removeprefix("+44").removeprefix("0044").removeprefix("0")  # "+44 07700…" happens
    elif compact.startswith("44") and len(compact) == 12:
        national = "0" + compact[2:]
    else:
        national = compact
    if not national.isascii() or not national.isdigit():
        raise InvalidInput.one("mobile", f"Enter a mobile number using digits only, like {MOBILE_EXAMPLE}.")
    if national[:2] in ("01", "02", "03") and len(national) in (10, 11):
        raise InvalidInput.one(
            "mobile",
            f"That looks like a landline number, which can't get texts. Enter a mobile number, like {MOBILE_EXAMPLE}.",
        )
    if not _UK_MOBILE.fullmatch(national):
        raise InvalidInput.one("mobile", f"Enter a UK mobile number: 11 digits starting 07, like {MOBILE_EXAMPLE}.")
    return Address(Channel.SMS, "+44" + national[1:])


def mobile_in_words(number: str) -> str:
    """``+447700900123`` as people write it: ``07700 900123``."""
    if number.startswith("+44") and len(number) == 13:
        national = "0" + number[3:]
        return f"{national[:5]} {national[5:]}"
    return number


def place_query(text: str) -> str:
    query = " ".join(text.split())
    if not query:
        raise InvalidInput.one("where", "Enter a postcode or address, like ST16 2LZ or Eastgate Street, Stafford.")
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidInput.one("where", f"Enter a shorter postcode or address (up to {MAX_QUERY_LENGTH} characters).")
    return query


def place_label(key: str) -> str:
    return PLACE_LABELS.get(key, PLACE_LABELS["home"])


def chosen_topics(form: FormData, force: ForceConfig) -> tuple[str, ...]:
    picked = [key for key in form.getlist("topics") if isinstance(key, str) and key in force.topics]
    if not picked:
        raise InvalidInput.one("topics", "Choose at least one kind of alert. All local crime covers everything.")
    return settle_topics(picked)


def chosen_sector(form: FormData, force: ForceConfig) -> str | None:
    key = _text(form, "sector")
    if not key:
        return None
    if key not in force.sectors:
        raise InvalidInput.one("sector", "Choose a business sector from the list, or 'No, I'm a resident'.")
    return key


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class SignUp:
    """The sign-up form as typed, kept to show again when something needs fixing."""

    email: str = ""
    channel: str = "email"  # one of CHANNELS
    mobile: str = ""
    where: str = ""
    label: str = "home"
    topics: tuple[str, ...] = (ALL_TOPICS,)
    sector: str = ""
    age_confirmed: bool = False
    place: str = ""  # the index of the place chosen among several
    searched: str = ""  # the query those several places were found for

    @classmethod
    def read(cls, form: FormData) -> SignUp:
        # Cut at twice each field's limit: enough for the checks to say "too long", bounded to show again.
        return cls(
            email=_text(form, "email")[: MAX_EMAIL_LENGTH * 2],
            channel=_text(form, "channel") if _text(form, "channel") in CHANNELS else "email",
            mobile=_text(form, "mobile")[: MAX_MOBILE_LENGTH * 2],
            where=_text(form, "where")[: MAX_QUERY_LENGTH * 2],
            label=_text(form, "label") if _text(form, "label") in PLACE_LABELS else "home",
            topics=tuple(t for t in form.getlist("topics") if isinstance(t, str))[:64],
            sector=_text(form, "sector")[:64],
            age_confirmed=_text(form, "age") == "yes",
            place=_text(form, "place")[:8],
            searched=_text(form, "searched")[: MAX_QUERY_LENGTH * 2],
        )


@dataclass(frozen=True)
class TipForm:
    """The tip form as typed: what they saw, and whether (and how) officers may contact them."""

    text: str = ""
    may_contact: bool = False
    contact: str = ""

    @classmethod
    def read(cls, form: FormData) -> TipForm:
        return cls(
            text=_text(form, "text")[: MAX_TIP_TEXT * 2],
            may_contact=_text(form, "contact_me") == "yes",
            contact=_text(form, "contact")[: MAX_CONTACT * 2],
        )

    def problems(self) -> Problems:
        problems = Problems()
        if not self.text.strip():
            problems.add("text", "Tell us what you saw or heard.")
        elif len(self.text) > MAX_TIP_TEXT:
            problems.add("text", f"Your information must be {MAX_TIP_TEXT} characters or fewer.")
        if self.may_contact and len(self.contact) > MAX_CONTACT:
            problems.add("contact", f"Your contact details must be {MAX_CONTACT} characters or fewer.")
        return problems


def collect(problems: Problems, error: InvalidInput, anchors: dict[str, str] | None = None) -> None:
    """Add a service's field errors to the page's problems (``anchors``: field → input id where they differ)."""
    for name, message in error.errors.items():
        problems.add(name, message, (anchors or {}).get(name))


Option = tuple[str, str, str]  # value, label, hint ("" for none): one checkbox or radio button


def topic_options(force: ForceConfig) -> list[Option]:
    return [(key, topic.label, topic.description) for key, topic in force.topics.items()]


def label_options() -> list[Option]:
    return [(key, label, "") for key, label in PLACE_LABELS.items()]


def topics_anchor(force: ForceConfig) -> str:
    """The id of the first topic's checkbox, where an error about topics takes the reader."""
    return f"topics-{next(iter(force.topics))}"
