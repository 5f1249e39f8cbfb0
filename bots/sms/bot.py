"""The SMS resident bot: an inbound text in, the conversation's answer out; status callbacks onto deliveries."""

from __future__ import annotations

import logging

from bots.sms.inbound import InboundSms, contact_for, to_event
from bots.sms.media import SmsPhotos
from bots.sms.render import render_prompt
from bots.sms.twilio_api import GONE_CODES, TwilioApi, TwilioError
from core.clock import Clock
from core.conversation.events import Command
from core.conversation.flow import ResidentConversation
from core.conversation.state import ConversationStore
from core.force import ForceConfig
from core.geocoding import Geocoder
from core.model import Address, Channel, Receipt, ReceiptStatus
from core.services.receipts import ReceiptService
from core.services.residents import ResidentService
from core.services.subscriptions import SubscriptionService
from core.services.tips import TipService

logger = logging.getLogger("lookout.sms")

# Twilio's message statuses as the delivery rows record them; "queued", "sending" and the like are on the way.
STATUSES = {
    "sent": ReceiptStatus.SENT,
    "delivered": ReceiptStatus.DELIVERED,
    "read": ReceiptStatus.READ,
    "undelivered": ReceiptStatus.FAILED,
    "failed": ReceiptStatus.FAILED,
}


class SmsBot:
    def __init__(
        self,
        conversation: ResidentConversation,
        api: TwilioApi,
        *,
        residents: ResidentService,
        receipts: ReceiptService,
        clock: Clock,
    ) -> None:
        self._conversation = conversation
        self._api = api
        self._residents = residents
        self._receipts = receipts
        self._clock = clock

    async def on_message(self, message: InboundSms) -> None:
        address = Address(Channel.SMS, message.sender)
        event = to_event(message)
        prompt = await self._conversation.handle(address, event, contact=contact_for(message))
        if prompt is None:
            return
        if isinstance(event, Command) and event.name == "optout":
            # The provider confirms an opt-out itself and refuses anything more from us (21610) until START.
            return
        for text in render_prompt(prompt):
            try:
                await self._api.send(message.sender, text)
            except TwilioError as exc:
                if exc.transient:
                    raise  # the door answers 500 and forgets the message, so a redelivery is handled
                # Refused for good (they opted out with the provider, the number cannot take texts): say so once.
                logger.warning("the provider refused an answer to a resident: %s", exc.describe())
                if exc.code in GONE_CODES:
                    await self._residents.mark_unreachable(address)
                return

    async def on_status(self, sid: str, to: str, status: str, error_code: str | None) -> None:
        known = STATUSES.get(status)
        if known is None:
            return
        code = int(error_code) if error_code and error_code.isdigit() else None
        error = (
            f"SMS {code or 'error'}: the text was not delivered ({status})" if known is ReceiptStatus.FAILED else None
        )
        receipt = Receipt(
            Address(Channel.SMS, to), sid, known, self._clock(), error=error, recipient_gone=code in GONE_CODES
        )
        await self._receipts.record([receipt])


def build_sms_bot(
    api: TwilioApi,
    *,
    force: ForceConfig,
    subscriptions: SubscriptionService,
    tips: TipService,
    geocoder: Geocoder,
    residents: ResidentService,
    receipts: ReceiptService,
    store: ConversationStore,
    clock: Clock,
) -> SmsBot:
    conversation = ResidentConversation(
        force=force,
        subscriptions=subscriptions,
        tips=tips,
        geocoder=geocoder,
        store=store,
        photos=SmsPhotos(api),
        clock=clock,
    )
    return SmsBot(conversation, api, residents=residents, receipts=receipts, clock=clock)
