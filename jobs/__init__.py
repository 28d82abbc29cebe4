"""Scheduled work: one module per job, the scheduler wiring and the outbox sender."""
