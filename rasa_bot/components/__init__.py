"""Custom NLU components of the assistant (Rasa finds them by module path, run from ``rasa_bot/``)."""
