"""Use cases. Each takes ``session`` keyword-only and never commits: the caller owns the transaction."""
