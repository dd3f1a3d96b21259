"""Custom actions of the assistant, served by rasa-sdk's action server.

Run with ``rasa run actions --actions rasa_bot.actions`` (the project is installed into .venv).
The actions are thin: the work is done by plain-Python services in
:mod:`.services`, which know nothing about Rasa.
"""
