"""Button and select listeners."""

from slack_bolt.async_app import AsyncApp

from handlers import ids
from handlers.actions.customer_search import handle_customer_search
from handlers.actions.task_buttons import handle_task_done, handle_task_note, handle_task_start, handle_tasks_page


def register(app: AsyncApp) -> None:
    """Attach the task buttons, list pagination and the customer search."""
    app.action(ids.TASK_START)(handle_task_start)
    app.action(ids.TASK_DONE)(handle_task_done)
    app.action(ids.TASK_NOTE)(handle_task_note)
    for action_id in ids.TASKS_PAGE:
        app.action(action_id)(handle_tasks_page)
    app.options(ids.ASSIGN_CUSTOMER_SEARCH)(handle_customer_search)
