"""Input channels of the project's own, loaded by Rasa from ``credentials.yml``.

Rasa is started from ``rasa_bot/`` (it puts the working folder on ``sys.path``),
so ``channels.secure_socketio.SecureSocketIOInput`` names the class below.
"""
