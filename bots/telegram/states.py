"""Where a resident is in a conversation (kept in the database by the FSM storage)."""
from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Onboarding(StatesGroup):
    age = State()
    location = State()  # waiting for a shared location or a typed postcode/address
    confirm_place = State()  # "is this right?" after a lookup
    choose_place = State()  # several lookup results to pick from
    label = State()
    topics = State()
    sector = State()


class Managing(StatesGroup):
    rename_place = State()
    topics = State()


class TipFlow(StatesGroup):
    collecting = State()  # text, photos, a location
    offer = State()  # "send this to the police?" after a message out of the blue
    anonymity = State()
    answering = State()  # writing back to an officer
