"""Certificate verification over HTTP, served by the Rasa server as a channel:

    GET /webhooks/verify/certificate?c=<QR payload>   ->  {"result": "valid" | "revoked" | "unknown", ...}

Anyone may ask (the QR code on a certificate leads here); the answer names only
what the certificate itself prints.
"""

import html
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from panchayat import certificates
from panchayat.catalogue import text
from panchayat.journeys import in_thread


class CertificateVerification(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "verify"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        verification = Blueprint("certificate_verification", __name__)

        @verification.route("/", methods=["GET"])
        async def health(_request: Request) -> response.HTTPResponse:
            return response.json({"status": "ok"})

        @verification.route("/certificate", methods=["GET"])
        async def certificate(request: Request) -> response.HTTPResponse:
            payload = request.args.get("c", "")[:2000]
            answer = await in_thread(certificates.check, payload)
            if "text/html" in request.headers.get("accept", ""):
                bn, en = (text(f"verify_{answer['result']}", lang) for lang in ("bn", "en"))
                details = "".join(
                    f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in answer.items() if k != "result"
                )
                return response.html(
                    f"<!doctype html><meta charset=utf-8><title>{en}</title><h1>{bn}<br>{en}</h1><ul>{details}</ul>"
                )
            return response.json(answer)

        return verification
