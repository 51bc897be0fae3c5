"""Rasa input channels: certificate verification (and, later, WhatsApp)."""
