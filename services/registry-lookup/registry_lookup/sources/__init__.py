"""One module per registry: its formats (API JSON, bulk files) turned into
entity dicts (see ``records``). Pure functions, no I/O except reading the
bulk file handed in."""
