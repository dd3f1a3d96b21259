"""Storage classes of the project's own, loaded by Rasa from ``endpoints.yml``."""
