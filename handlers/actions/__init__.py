"""Button and select listeners."""

from slack_bolt.async_app import AsyncApp

from bot.blocks import ids
from handlers.actions.assign_refresh import handle_assign_refresh
from handlers.actions.chart_buttons import handle_kpi_chart, handle_pipeline_chart
from handlers.actions.customer_search import handle_customer_search
from handlers.actions.priorities_buttons import handle_daily_done, handle_daily_see_all, handle_daily_snooze
from handlers.actions.deal_buttons import (
    handle_deal_edit, handle_deal_log, handle_deal_lost, handle_deal_next, handle_deal_reopen, handle_deal_won, handle_deals_page,
)
from handlers.actions.standup_buttons import (
    handle_agenda_discussed, handle_agenda_target, handle_agenda_task, handle_standup_answer, handle_standup_blockers_all, handle_standup_see_all,
)
from handlers.actions.suggestion_buttons import handle_suggestion_decision
from handlers.actions.survey_buttons import handle_survey_comment, handle_survey_score
from handlers.actions.timezone_search import handle_timezone_search
from handlers.actions.home_new_task import handle_home_new_task
from handlers.actions.repeat_edit import handle_repeat_edit
from handlers.actions.repeat_stop import handle_repeat_stop
from handlers.actions.task_buttons import handle_task_done, handle_task_note, handle_task_start, handle_tasks_page
from handlers.actions.task_change_buttons import (
    handle_home_notices, handle_task_cancel, handle_task_edit, handle_task_history, handle_task_reassign, handle_task_reopen,
)


def register(app: AsyncApp) -> None:
    """Attach the task buttons, list pagination and the customer search."""
    app.action(ids.TASK_START)(handle_task_start)
    app.action(ids.TASK_DONE)(handle_task_done)
    app.action(ids.TASK_NOTE)(handle_task_note)
    app.action(ids.REPEAT_STOP)(handle_repeat_stop)
    app.action(ids.REPEAT_EDIT)(handle_repeat_edit)
    app.action(ids.HOME_NEW_TASK)(handle_home_new_task)
    app.action(ids.TASK_EDIT)(handle_task_edit)
    app.action(ids.TASK_CANCEL)(handle_task_cancel)
    app.action(ids.TASK_REOPEN)(handle_task_reopen)
    app.action(ids.TASK_HISTORY)(handle_task_history)
    app.action(ids.TASK_REASSIGN)(handle_task_reassign)
    app.action(ids.HOME_NOTICES)(handle_home_notices)
    for action_id in ids.TASKS_PAGE:
        app.action(action_id)(handle_tasks_page)
    app.options(ids.ASSIGN_CUSTOMER_SEARCH)(handle_customer_search)
    app.action(ids.DEAL_NEXT)(handle_deal_next)
    app.action(ids.DEAL_WON)(handle_deal_won)
    app.action(ids.DEAL_LOST)(handle_deal_lost)
    app.action(ids.DEAL_REOPEN)(handle_deal_reopen)
    for action_id in ids.DEALS_PAGE:
        app.action(action_id)(handle_deals_page)
    app.action(ids.DEAL_LOG)(handle_deal_log)
    app.action(ids.DEAL_EDIT)(handle_deal_edit)
    for action_id in ids.SURVEY_SCORES:
        app.action(action_id)(handle_survey_score)
    app.action(ids.SURVEY_COMMENT)(handle_survey_comment)
    for action_id in ids.SUGGEST_DECISIONS:
        app.action(action_id)(handle_suggestion_decision)
    app.options(ids.CONFIG_TZ_SEARCH)(handle_timezone_search)
    app.action(ids.CHART_KPI)(handle_kpi_chart)
    app.action(ids.CHART_PIPELINE)(handle_pipeline_chart)
    app.action(ids.DAILY_DONE)(handle_daily_done)
    app.action(ids.DAILY_SNOOZE)(handle_daily_snooze)
    app.action(ids.DAILY_SEE_ALL)(handle_daily_see_all)
    app.action(ids.STANDUP_ANSWER)(handle_standup_answer)
    app.action(ids.STANDUP_SEE_ALL)(handle_standup_see_all)
    app.action(ids.STANDUP_BLOCKERS_ALL)(handle_standup_blockers_all)
    app.action(ids.AGENDA_TASK)(handle_agenda_task)
    app.action(ids.AGENDA_TARGET)(handle_agenda_target)
    app.action(ids.AGENDA_DISCUSSED)(handle_agenda_discussed)
    for block_id, action_id in ids.MATCH_TRIGGERS:
        app.action({"block_id": block_id, "action_id": action_id})(handle_assign_refresh)
