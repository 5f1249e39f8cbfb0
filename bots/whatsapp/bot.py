"""The WhatsApp resident bot: a webhook message in, the conversation's answer out; status reports onto deliveries."""

from __future__ import annotations

import logging

from bots.whatsapp.graph import UNDELIVERABLE, WINDOW_CLOSED, CloudApi, GraphError
from bots.whatsapp.inbound import contact_for, to_event
from bots.whatsapp.media import WhatsAppPhotos
from bots.whatsapp.payloads import InboundMessage, StatusReport
from bots.whatsapp.render import PAGE_PREFIX, page_of, render_prompt
from bots.whatsapp.replies import ReplySender
from core.channels import PUBLISHED_LIMITS
from core.clock import Clock
from core.conversation.events import Again, Choice
from core.conversation.flow import ResidentConversation
from core.conversation.state import ConversationStore
from core.force import ForceConfig
from core.geocoding import Geocoder
from core.model import Address, Channel, Receipt, ReceiptStatus
from core.services.feedback import FeedbackService
from core.services.receipts import ReceiptService
from core.services.residents import ResidentService
from core.services.subscriptions import SubscriptionService
from core.services.tips import TipService

logger = logging.getLogger("lookout.whatsapp")


class WhatsAppBot:
    def __init__(
        self,
        conversation: ResidentConversation,
        sender: ReplySender,
        *,
        residents: ResidentService,
        receipts: ReceiptService,
    ) -> None:
        self._conversation = conversation
        self._sender = sender
        self._residents = residents
        self._receipts = receipts

    async def on_message(self, message: InboundMessage) -> None:
        address = Address(Channel.WHATSAPP, message.wa_id)
        # Every message opens (or extends) the 24-hour window in which alerts may go as free-form text.
        await self._residents.note_inbound(address, message.sent_at)
        event = to_event(message)
        if event is None:
            return
        page = None
        if isinstance(event, Choice) and event.id.startswith(PAGE_PREFIX):
            number = event.id.removeprefix(PAGE_PREFIX)
            page, event = (int(number) if number.isdigit() else 0), Again()
        prompt = await self._conversation.handle(address, event, contact=contact_for(message))
        if prompt is None:
            return
        if page is None and isinstance(event, Choice) and any(o.id == event.id for o in prompt.options):
            page = page_of(prompt, event.id)  # ticking in a list: it opens again where they were ticking
        try:
            await self._sender.send(message.wa_id, render_prompt(prompt, page=page))
        except GraphError as exc:
            if exc.transient:
                raise  # the webhook answers 500 and Meta delivers the message again
            # Refused for good (the number cannot receive, say): a redelivery would be refused the same way.
            logger.warning("WhatsApp refused an answer to a resident: %s", exc.describe())

    async def on_statuses(self, reports: list[StatusReport]) -> None:
        receipts = [receipt for receipt in map(_receipt, reports) if receipt is not None]
        await self._receipts.record(receipts)


def _receipt(report: StatusReport) -> Receipt | None:
    try:
        status = ReceiptStatus(report.status)
    except ValueError:  # a status Lookout does not track ("deleted", …)
        return None
    address = Address(Channel.WHATSAPP, report.recipient_id)  # checked as a phone number when read
    error = None
    if status is ReceiptStatus.FAILED:
        error = f"WhatsApp {report.error_code or 'error'}: {report.error_text or 'the message could not be delivered'}"
    return Receipt(
        address,
        report.wamid,
        status,
        report.at,
        error=error,
        recipient_gone=report.error_code == UNDELIVERABLE,
        window_closed=report.error_code == WINDOW_CLOSED,
    )


def build_whatsapp_bot(
    api: CloudApi,
    *,
    force: ForceConfig,
    subscriptions: SubscriptionService,
    tips: TipService,
    geocoder: Geocoder,
    residents: ResidentService,
    receipts: ReceiptService,
    store: ConversationStore,
    clock: Clock,
    feedback: FeedbackService | None = None,
) -> WhatsAppBot:
    conversation = ResidentConversation(
        force=force,
        subscriptions=subscriptions,
        tips=tips,
        geocoder=geocoder,
        store=store,
        photos=WhatsAppPhotos(api),
        feedback=feedback,
        clock=clock,
    )
    sender = ReplySender(api, pair_interval=PUBLISHED_LIMITS[Channel.WHATSAPP].per_chat_interval)
    return WhatsAppBot(conversation, sender, residents=residents, receipts=receipts)
