"""A local WhatsApp simulator: Meta's side of the WhatsApp channel, with a chat page per phone."""
