"""Global and message shortcuts (none yet)."""

from slack_bolt.async_app import AsyncApp


def register(app: AsyncApp) -> None:
    """Attach the shortcuts."""
