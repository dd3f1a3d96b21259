"""Custom actions of the assistant, served by rasa-sdk's action server.

Run from ``rasa_bot/``: ``rasa run actions --actions actions``.
The actions are thin: the work is done by plain-Python services in
:mod:`.services`, which know nothing about Rasa.
"""
