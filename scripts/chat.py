"""A terminal chat with the assistant through its REST channel, WhatsApp-like.

Buttons are shown numbered; answer with the number (ASCII or Bengali digits)
to press one. Type /quit or press Ctrl-D to leave.

Messages the panchayat sends later (an approval, a booking cancelled by the
office, a resolved complaint) wait in the outbox; on the machine that holds the
database this chat shows the ones for its sender as they arrive, as WhatsApp would.

    python scripts/chat.py [--url http://localhost:5005] [--sender demo-citizen]
"""
import argparse
import sys
import threading
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENGALI_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")
DEFAULT_SENDER = "demo-citizen"  # seeded with a sample GP, so office questions answer at once


def show(message: dict) -> list:
    """Prints one bot message; returns its buttons."""
    if message.get("text"):
        print(f"bot> {message['text']}")
    if message.get("image"):
        print(f"bot> [image] {message['image']}")
    custom = message.get("custom") or {}
    if custom.get("document"):
        print(f"bot> [document] {custom['document']}\n     {custom.get('caption', '')}")
    buttons = message.get("buttons") or []
    for number, button in enumerate(buttons, start=1):
        print(f"     {number}. {button['title']}")
    return buttons


def show_outbox(sender: str) -> None:
    """Prints the panchayat's queued messages for `sender` and marks them delivered."""
    from panchayat import outbox

    texts = outbox.deliver_pending(sender)
    for message in texts:
        print(f"\n[panchayat] {message}\nyou> ", end="", flush=True)


def watch_outbox(sender: str, stop: threading.Event, every: float = 2.0) -> None:
    while not stop.wait(every):
        try:
            show_outbox(sender)
        except Exception:  # no database here (a remote assistant): nothing to show
            return


def chat(url: str, sender: str = DEFAULT_SENDER, outbox: bool = True) -> None:
    stop = threading.Event()
    if outbox:
        threading.Thread(target=watch_outbox, args=(sender, stop), daemon=True).start()
    try:
        converse(url, sender)
    finally:
        stop.set()


def converse(url: str, sender: str) -> None:
    endpoint = f"{url.rstrip('/')}/webhooks/rest/webhook"
    print("Type a message (Bengali, English or Banglish). /quit to leave.")
    buttons: list = []
    while True:
        try:
            line = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return
        choice = line.translate(BENGALI_DIGITS)
        if choice.isdigit() and 1 <= int(choice) <= len(buttons):
            line = buttons[int(choice) - 1]["payload"]
        try:
            reply = requests.post(endpoint, json={"sender": sender, "message": line}, timeout=60)
            reply.raise_for_status()
        except requests.RequestException as error:
            print(f"(the assistant is not reachable: {error})")
            continue
        buttons = []
        messages = reply.json()
        if not messages:
            # As on WhatsApp: a turn that said nothing (a failed action) is not left in silence.
            from panchayat.catalogue import text
            from panchayat.language import detect_language

            messages = [{"text": text("try_again", detect_language(line) or "bn")}]
        for message in messages:
            buttons = show(message) or buttons


def main() -> int:
    parser = argparse.ArgumentParser(description="Chat with the assistant in the terminal")
    parser.add_argument("--url", default="http://localhost:5005")
    parser.add_argument("--sender", default=DEFAULT_SENDER, help="who you are (a WhatsApp id)")
    parser.add_argument("--no-outbox", action="store_true", help="do not show the panchayat's queued messages")
    args = parser.parse_args()
    chat(args.url, args.sender, outbox=not args.no_outbox)
    return 0


if __name__ == "__main__":
    sys.exit(main())
