"""Every action_id, callback_id and block_id the bot sends and listens for."""

# Slash commands
CMD_SALESBOT = "/salesbot"
CMD_ASSIGN = "/assign"
CMD_MYTASKS = "/mytasks"

# Buttons on task cards, lists and the App Home
TASK_START = "task_start"
TASK_DONE = "task_done"
TASK_NOTE = "task_note"
TASKS_PREV = "tasks_page_prev"  # Previous and Next share a block, so their ids differ
TASKS_NEXT = "tasks_page_next"
TASKS_PAGE = (TASKS_PREV, TASKS_NEXT)

# The assign modal
ASSIGN_VIEW = "assign_task"
ASSIGN_TITLE = "title"
ASSIGN_DETAILS = "details"
ASSIGN_ASSIGNEES = "assignees"
ASSIGN_CUSTOMER = "customer"
ASSIGN_NEW_CUSTOMER = "new_customer"
ASSIGN_SEGMENT = "new_customer_segment"
ASSIGN_STAGE = "stage"
ASSIGN_PRIORITY = "priority"
ASSIGN_DIFFICULTY = "difficulty"
ASSIGN_DUE = "due_date"
ASSIGN_CUSTOMER_SEARCH = "assign_customer_search"

# The note modal
NOTE_VIEW = "task_note"
NOTE_TEXT = "note"

# App Home
HOME_MY_TASKS = "home_my_tasks"
