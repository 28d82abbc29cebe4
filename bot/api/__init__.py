"""The HTTP API under /api/v1: JSON over the data standard, for CRMs and integration platforms."""
