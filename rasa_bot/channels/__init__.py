"""Input channels of the project's own, loaded by Rasa from ``credentials.yml``.

The project is installed into the venv as a package, so
``rasa_bot.channels.secure_socketio.SecureSocketIOInput`` names the class wherever Rasa runs.
"""
