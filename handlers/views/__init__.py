"""Modal submission listeners."""

from slack_bolt.async_app import AsyncApp

from handlers import ids
from handlers.views.assign_submit import handle_assign_submission
from handlers.views.note_submit import handle_note_submission


def register(app: AsyncApp) -> None:
    """Attach the modal submissions."""
    app.view(ids.ASSIGN_VIEW)(handle_assign_submission)
    app.view(ids.NOTE_VIEW)(handle_note_submission)
