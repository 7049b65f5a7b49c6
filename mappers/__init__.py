"""Pure translation between foreign payloads and the internal schema. No httpx, no SQLAlchemy."""
