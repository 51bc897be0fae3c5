"""The channels: certificate verification (verify.py), WhatsApp (whatsapp/) and the notification
worker that delivers the outbox over WhatsApp (notifier.py)."""
