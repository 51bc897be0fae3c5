"""A terminal chat with the assistant through its REST channel, WhatsApp-like.

Buttons are shown numbered; answer with the number (ASCII or Bengali digits)
to press one. Type /quit or press Ctrl-D to leave.

    python scripts/chat.py [--url http://localhost:5005] [--sender demo-citizen]
"""
import argparse
import sys

import requests

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


def chat(url: str, sender: str = DEFAULT_SENDER) -> None:
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
        for message in reply.json():
            buttons = show(message) or buttons


def main() -> int:
    parser = argparse.ArgumentParser(description="Chat with the assistant in the terminal")
    parser.add_argument("--url", default="http://localhost:5005")
    parser.add_argument("--sender", default=DEFAULT_SENDER, help="who you are (a WhatsApp id)")
    args = parser.parse_args()
    chat(args.url, args.sender)
    return 0


if __name__ == "__main__":
    sys.exit(main())
