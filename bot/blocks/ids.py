"""Every action_id, callback_id and block_id the bot sends and listens for."""

# Slash commands
CMD_SALESBOT = "/salesbot"
CMD_ASSIGN = "/assign"
CMD_MYTASKS = "/mytasks"
CMD_TASKS = "/tasks"  # the team board; its pages and task buttons reuse the task list's ids

# Buttons on task cards, lists and the App Home
TASK_START = "task_start"
TASK_DONE = "task_done"
TASK_NOTE = "task_note"
TASK_EDIT = "task_edit"  # value: the task id as a string, so any list (the team board too) can offer Edit
TASK_CANCEL = "task_cancel"
TASK_REOPEN = "task_reopen"
TASK_HISTORY = "task_history"
TASK_CHANGES = (TASK_EDIT, TASK_CANCEL, TASK_REOPEN, TASK_HISTORY)
TASK_REASSIGN = "task_reassign"  # the hand-over DM's user picker; its block_id names the task and the rep on leave
TASKS_PREV = "tasks_page_prev"  # Previous and Next share a block, so their ids differ
TASKS_NEXT = "tasks_page_next"
TASKS_PAGE = (TASKS_PREV, TASKS_NEXT)
REPEAT_STOP = "repeat_stop"  # stops a repeat rule (its value: the rule id)
REPEAT_EDIT = "repeat_edit"  # opens a repeat rule's edit modal (its value: the rule id)

# The repeat rule's edit modal
RULE_EDIT_VIEW = "rule_edit"
RULE_TITLE = "rule_title"
RULE_DETAILS = "rule_details"
RULE_PRIORITY = "rule_priority"
RULE_KIND = "rule_kind"
RULE_DAYS = "rule_days"  # weekly: the weekdays (Monday = 0)
RULE_MONTH_DAY = "rule_month_day"  # monthly and quarterly: the day of the month
RULE_ASSIGNEES = "rule_assignees"  # shown to managers and admins only

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
ASSIGN_REPEAT = "repeat"  # none, or a RepeatKind value: the task then repeats from its due date
ASSIGN_REPEAT_DAYS = "repeat_days"  # weekly: the weekdays (Monday = 0)
ASSIGN_CUSTOMER_SEARCH = "assign_customer_search"

# The note modal
NOTE_VIEW = "task_note"
NOTE_TEXT = "note"

# Changing a task: the edit modal (the assign modal's blocks), the cancel reason, the history
TASK_EDIT_VIEW = "task_edit"
TASK_EDIT_DEAL = "deal"
CANCEL_VIEW = "task_cancel"
CANCEL_REASON = "reason"
HISTORY_VIEW = "task_history"

# App Home
HOME_MY_TASKS = "home_my_tasks"
HOME_NEW_TASK = "home_new_task"  # opens the New task modal: a task of the member's own

# The New task modal (the App Home's)
OWN_VIEW = "own_task"
OWN_TITLE = "own_title"
OWN_DUE = "own_due"
OWN_PRIORITY = "own_priority"
OWN_CUSTOMER = "own_customer"
HOME_NOTICES = "home_task_notices"  # turns the member's task notices on or off

# Satisfaction surveys: five score buttons (distinct ids: unique within their block) and a comment
SURVEY_SCORES = tuple(f"survey_score_{n}" for n in range(1, 6))
SURVEY_COMMENT = "survey_comment"
SURVEY_COMMENT_VIEW = "survey_comment"
SURVEY_COMMENT_TEXT = "comment"

# Employee suggestions: the /suggest modal and a manager's decision buttons
CMD_SUGGEST = "/suggest"
SUGGEST_VIEW = "suggest"
SUGGEST_TEXT = "text"
SUGGEST_ANONYMOUS = "anonymous"
SUGGEST_PLANNED = "suggest_planned"
SUGGEST_DONE = "suggest_done"
SUGGEST_DECLINED = "suggest_declined"
SUGGEST_DECISIONS = (SUGGEST_PLANNED, SUGGEST_DONE, SUGGEST_DECLINED)

# Team settings: the /salesbot config modal
CONFIG_VIEW = "team_config"
CONFIG_CHANNEL = "digest_channel"
CONFIG_DIGEST_DAY = "digest_weekday"
CONFIG_DIGEST_TIME = "digest_time"
CONFIG_DAILY_TIME = "daily_time"
CONFIG_WORKING_DAYS = "working_days"
CONFIG_TIMEZONE = "timezone"
CONFIG_TZ_SEARCH = "config_timezone_search"
CONFIG_SURVEY_DELAY = "survey_delay_days"
CONFIG_GROWTH = "growth_target"
CONFIG_SATISFACTION = "satisfaction_target"
CONFIG_STALE_DAYS = "stale_days"
CONFIG_SURVEY_REMINDER = "survey_reminder_days"
CONFIG_ALERT_CHANNEL = "deal_alert_channel"
CONFIG_ALERT_AMOUNT = "deal_alert_min_amount"
CONFIG_STANDUP = "standup_on"  # the standup section: weekly and daily check-ins, their times, the questions
CONFIG_STANDUP_TIME = "standup_time"
CONFIG_STANDUP_DAILY_TIME = "standup_daily_time"
CONFIG_STANDUP_Q_PREFIX = "standup_question_"  # + the question's position (0..3)

# The standup: the check-in DM's Answer button and modal, See all, and the digest's agenda buttons
STANDUP_ANSWER = "standup_answer"
STANDUP_VIEW = "standup_checkin"
STANDUP_Q_PREFIX = "standup_q_"  # + the question's position (0..3)
STANDUP_SEE_ALL = "standup_see_all"
STANDUP_BLOCKERS_ALL = "standup_blockers_all"
AGENDA_TASK = "agenda_task"
AGENDA_TARGET = "agenda_target"
AGENDA_DISCUSSED = "agenda_discussed"
CONFIG_REMINDER_DAYS = "reminder_days"
CONFIG_REMINDER_TIME = "reminder_time"
CONFIG_ESCALATE_DAYS = "escalate_days"

# Deals, activities and expenses
CMD_DEAL = "/deal"
CMD_LOG = "/log"
CMD_EXPENSE = "/expense"
DEAL_NEXT = "deal_next_stage"  # the deal card's buttons (one block per card)
DEAL_WON = "deal_won"
DEAL_LOST = "deal_lost"
DEAL_LOG = "deal_log_activity"
DEAL_EDIT = "deal_edit"
DEAL_REOPEN = "deal_reopen"  # on a closed deal's card, for managers
LOST_VIEW = "deal_lost_reason"  # the Lost modal: a reason category and words
LOST_REASON = "lost_reason"
LOST_NOTE = "lost_note"
REOPEN_VIEW = "deal_reopen"
REOPEN_NOTE = "reopen_note"
DEALS_PREV = "deals_page_prev"  # /deal list's Previous and Next
DEALS_NEXT = "deals_page_next"
DEALS_PAGE = (DEALS_PREV, DEALS_NEXT)
DEAL_VIEW = "deal_modal"  # the deal modal (create or update)
DEAL_CUSTOMER = "deal_customer"
DEAL_NEW_CUSTOMER = "deal_new_customer"
DEAL_SEGMENT = "deal_segment"
DEAL_REGION = "deal_region"
DEAL_CONTACT = "deal_contact"
DEAL_PRODUCT = "deal_product"
DEAL_TITLE = "deal_title"
DEAL_AMOUNT = "deal_amount"
DEAL_STAGE = "deal_stage"
DEAL_STATUS = "deal_status"
DEAL_CLOSE = "deal_close"
DEAL_OWNER = "deal_owner"
DEAL_CUSTOMER_SEARCH = ASSIGN_CUSTOMER_SEARCH  # the same customer search answers both modals
LOG_VIEW = "deal_log"  # the log-activity modal
LOG_CUSTOMER = "log_customer"
LOG_DEAL = "log_deal"
LOG_KIND = "log_kind"
LOG_EFFECTIVE = "log_effective"
LOG_NOTE = "log_note"

# Pipeline and KPI reports
CMD_PIPELINE = "/pipeline"
CMD_KPI = "/kpi"
CHART_KPI = "kpi_chart"  # the reports' Chart buttons: the value says which report to draw
CHART_PIPELINE = "pipeline_chart"

# Targets
CMD_TARGET = "/target"
TARGET_SPLIT_VIEW = "target_split"
TARGET_SHARE_PREFIX = "target_share_"  # + the key's position in the modal

# Assignment suggestions in the assign modal: the blocks the ranking is shown in
MATCH_SUGGESTIONS = "match_suggestions"
MATCH_REP_PREFIX = "match_rep_"  # + the rank (1..3)
MATCH_NOTE = "match_note"
# Picks that redraw the suggestions: (block_id, action_id) of the assign modal's dispatching inputs
ASSIGN_SELECT_ACTION = "value"  # the action_id every plain input of the assign modal uses
MATCH_TRIGGERS = (
    (ASSIGN_CUSTOMER, ASSIGN_CUSTOMER_SEARCH),
    (ASSIGN_STAGE, ASSIGN_SELECT_ACTION),
    (ASSIGN_DIFFICULTY, ASSIGN_SELECT_ACTION),
)

# Morning priorities DM: complete or snooze a listed task, and see the whole list
DAILY_DONE = "daily_done"
DAILY_SNOOZE = "daily_snooze"
DAILY_SEE_ALL = "daily_see_all"
