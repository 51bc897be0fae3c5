"""Smart Panchayat domain core: database models, services, documents and the staff CLI.

Knows nothing of Rasa; the Rasa actions in ``actions/`` call into it.
"""
