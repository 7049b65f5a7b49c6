"""Runnable stand-ins for the external hotline platforms of PLATFORMS.md.

Each platform key has one package with an app factory (`mock_platforms.<key>.create_app`);
`mock_platforms.common` holds the machinery they share (fault switches, ledger, rate limiter,
fake-data generator, the `/_mock` control routes, an in-thread runner). Nothing here imports
the gateway: a mock that shared code with the mappers could copy their mistakes and still pass.
"""
