"""The twin file: schema (``schema``), safe expressions (``expr``) and the checked
loader (``loader.load_twin``)."""
