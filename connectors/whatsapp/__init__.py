"""The WhatsApp Cloud API channel (contract: docs/contracts/whatsapp.md).

    settings.py    WhatsAppSettings, and the one list of its keys and environment variables
    signing.py     the X-Hub-Signature-256 of webhooks
    redact.py      what logs may show of numbers, secrets and message ids
    payloads.py    the assistant's replies as WhatsApp messages, within WhatsApp's limits
    graph_api.py   GraphClient: messages, templates, media up and down, with retries
    outbound.py    WhatsAppOutput (the Rasa output channel) and the record of what went out
    inbound.py     WhatsAppInput: the webhook, its parsing, one queue per sender

credentials.yml names the channel `connectors.whatsapp.WhatsAppInput`. It is looked up here
on first use rather than imported, so that the simulator and the scripts, which need only the
settings and the signing, do not load Rasa's server for them.
"""

from typing import Any

__all__ = ["WhatsAppInput"]


def __getattr__(name: str) -> Any:
    if name == "WhatsAppInput":
        from connectors.whatsapp.inbound import WhatsAppInput

        return WhatsAppInput
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
