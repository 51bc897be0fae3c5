"""Custom Rasa NLU components (see components.py)."""
