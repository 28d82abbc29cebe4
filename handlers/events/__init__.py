"""Events API listeners."""

from slack_bolt.async_app import AsyncApp

from handlers.events.app_home import handle_app_home_opened


def register(app: AsyncApp) -> None:
    """Attach the event listeners."""
    app.event("app_home_opened")(handle_app_home_opened)
