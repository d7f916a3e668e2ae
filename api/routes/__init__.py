"""Routes, one module per resource; each is thin: check, call the library, shape the answer."""
