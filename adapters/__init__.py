"""Transport to each platform: one module per platform key. Adapters never import mappers or the DB."""
