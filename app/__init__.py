"""The composition root and the entry points: what builds the core and runs it.

``bootstrap`` builds the ``Container`` (settings, database, broker, adapters, mappers, actors);
``registry`` pairs each platform key with its adapter and mapper; ``web`` is the FastAPI app with the
dashboard mounted; ``cli`` the ``hotline-gateway`` command; ``demo`` and ``embedded`` run everything
in one process. The core (``gateway/``) never imports this package.
"""
