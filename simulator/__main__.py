"""python -m simulator: serves the WhatsApp simulator until Ctrl-C or SIGTERM.

The secrets come from the environment, as the channel reads them (WHATSAPP_APP_SECRET signs
the webhooks; WHATSAPP_ACCESS_TOKEN, when set, is the only bearer token the Graph fake takes;
WHATSAPP_PHONE_NUMBER_ID), so they never show on a command line. `scripts/stack.py simulator`
generates them per run and starts this next to the assistant.
"""
import argparse
import os
import sys
from typing import List, Optional

from aiohttp import web

from connectors.whatsapp.settings import ENVIRONMENT
from simulator import graph_fake
from simulator.server import Simulator


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="WhatsApp simulator: a chat page and a Graph API fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SIMULATOR_PORT", 8090)))
    parser.add_argument("--webhook", default=f"http://127.0.0.1:{os.environ.get('RASA_PORT', 5005)}"
                                             "/webhooks/whatsapp/webhook",
                        help="the channel's webhook URL (default: the Rasa server on RASA_PORT)")
    parser.add_argument("--no-receipts", action="store_true", help="send no delivered/read receipts")
    args = parser.parse_args(argv)
    app_secret = os.environ.get(ENVIRONMENT["app_secret"])
    if not app_secret:
        print(f"simulator: set {ENVIRONMENT['app_secret']} (the channel's app secret) to sign webhooks",
              file=sys.stderr)
        return 2
    simulator = Simulator(args.webhook, app_secret, os.environ.get(ENVIRONMENT["access_token"]) or None,
                          os.environ.get(ENVIRONMENT["phone_number_id"]) or graph_fake.DEFAULT_PHONE_NUMBER_ID,
                          receipts=not args.no_receipts)
    print(f"simulator: serving http://{args.host}:{args.port} (webhooks to {args.webhook})", flush=True)
    # run_app stops cleanly on SIGINT and SIGTERM.
    web.run_app(simulator.app(), host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
