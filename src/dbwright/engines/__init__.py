"""Database engines: the only code that talks to a server.

``base`` says what an engine offers (the ``Engine`` protocol), ``registry`` finds the engine
for a URL scheme, ``targets`` resolves what the user named into a ``Target``, and each
engine lives in its own package (``postgres``).
"""
