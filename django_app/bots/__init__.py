"""The bot registry: which bots the site's widgets talk to, and how to reach them.

models.py (:class:`Bot`), services.py (writes: loading a bots YAML file),
selectors.py (reads), bots_file.py (parsing the YAML, pure), admin.py,
management/commands/load_bots.py. Secrets are never stored: an entry names the
environment variables that hold them.
"""
