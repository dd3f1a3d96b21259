"""The security suite's record of attacks tried: (name, refused?), summarised at the end of a run."""

ATTACKS: list[tuple[str, bool]] = []
