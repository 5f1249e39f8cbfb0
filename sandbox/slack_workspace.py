"""The Slack sandbox's workspace: its team, its app, its people and channels, as Slack's API shows them.

Tests, the console and benchmarks name officers and channels by these ids; the
stand-in (``sandbox.slack``) answers ``users.info`` and signs its messages with
them, and the simulated client (``sandbox.slack_users``) puts them in payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The sandbox workspace, its app and its people.
TEAM_ID = "T01LOOKOUT"
TEAM_DOMAIN = "lookout-sandbox"
TEAM_NAME = "Lookout Sandbox"
APP_ID = "A01LOOKOUT0"
BOT_ID = "B01LOOKOUTB"
BOT_USER_ID = "U01LOOKOUTB"
VERIFICATION_TOKEN = "sandbox-verification-token"  # the legacy ``token`` field Slack still puts in every payload

OFFICER_ID = "U01OFFICER1"
SECOND_OFFICER_ID = "U01OFFICER2"
SUPERVISOR_ID = "U01SUPERVSR"
STAFF_ID = "U01CIVSTAFF"  # in the workspace, but not an officer: for "who may send" checks
TIPS_CHANNEL_ID = "C01TIPSQUEUE"
OFFICERS_CHANNEL_ID = "C01OFFICERS"
GENERAL_CHANNEL_ID = "C01GENERAL0"


@dataclass(frozen=True)
class SandboxUser:
    id: str
    name: str
    real_name: str
    title: str
    email: str
    is_bot: bool = False


SANDBOX_USERS: tuple[SandboxUser, ...] = (
    SandboxUser(
        OFFICER_ID, "pc.ada.brooks", "PC Ada Brooks", "Police Constable, Stafford NPT", "ada.brooks@police.example"
    ),
    SandboxUser(
        SECOND_OFFICER_ID, "pc.tom.hale", "PC Tom Hale", "Police Constable, Stafford NPT", "tom.hale@police.example"
    ),
    SandboxUser(
        SUPERVISOR_ID, "sgt.ruth.okafor", "Sgt Ruth Okafor", "Sergeant, Stafford NPT", "ruth.okafor@police.example"
    ),
    SandboxUser(STAFF_ID, "jo.patel", "Jo Patel", "Civilian staff, front counter", "jo.patel@police.example"),
    SandboxUser(BOT_USER_ID, "lookout", "Lookout", "", "", is_bot=True),
)
SANDBOX_CHANNELS: dict[str, str] = {
    TIPS_CHANNEL_ID: "lookout-tips",
    OFFICERS_CHANNEL_ID: "lookout-officers",
    GENERAL_CHANNEL_ID: "general",
}


def user_json(user: SandboxUser) -> dict[str, Any]:
    first, _, last = user.real_name.rpartition(" ")
    profile = {
        "title": user.title,
        "phone": "",
        "skype": "",
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.name,
        "display_name_normalized": user.name,
        "fields": None,
        "status_text": "",
        "status_emoji": "",
        "status_expiration": 0,
        "avatar_hash": "g0000000000",
        "first_name": first,
        "last_name": last,
        "image_48": f"https://secure.gravatar.com/avatar/{user.id}.jpg?s=48",
        "team": TEAM_ID,
    }
    if user.email:
        profile["email"] = user.email
    if user.is_bot:
        profile.update(bot_id=BOT_ID, api_app_id=APP_ID, always_active=True)
    return {
        "id": user.id,
        "team_id": TEAM_ID,
        "name": user.name,
        "deleted": False,
        "color": "9f69e7",
        "real_name": user.real_name,
        "tz": "Europe/London",
        "tz_label": "Greenwich Mean Time",
        "tz_offset": 0,
        "profile": profile,
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": 1712345678,
        "is_email_confirmed": not user.is_bot,
        "who_can_share_contact_card": "EVERYONE",
    }


def bot_profile() -> dict[str, Any]:
    return {
        "id": BOT_ID,
        "app_id": APP_ID,
        "name": "Lookout",
        "icons": {},
        "deleted": False,
        "updated": 1712345678,
        "team_id": TEAM_ID,
    }
