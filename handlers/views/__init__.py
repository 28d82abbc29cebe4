"""Modal submission listeners."""

from slack_bolt.async_app import AsyncApp

from bot.blocks import ids
from handlers.views.assign_submit import handle_assign_submission
from handlers.views.deal_close_submit import handle_lost_submission, handle_reopen_submission
from handlers.views.deal_submit import handle_deal_submission
from handlers.views.log_submit import handle_log_submission
from handlers.views.note_submit import handle_note_submission
from handlers.views.own_submit import handle_own_task_submission
from handlers.views.rule_edit_submit import handle_rule_edit_submission
from handlers.views.task_change_submit import handle_task_cancel_submission, handle_task_edit_submission
from handlers.views.config_submit import handle_config_submission
from handlers.views.standup_submit import handle_checkin_submission
from handlers.views.suggest_submit import handle_suggest_submission
from handlers.views.survey_comment_submit import handle_survey_comment_submission
from handlers.views.target_split import handle_target_split_submission


def register(app: AsyncApp) -> None:
    """Attach the modal submissions."""
    app.view(ids.ASSIGN_VIEW)(handle_assign_submission)
    app.view(ids.NOTE_VIEW)(handle_note_submission)
    app.view(ids.OWN_VIEW)(handle_own_task_submission)
    app.view(ids.RULE_EDIT_VIEW)(handle_rule_edit_submission)
    app.view(ids.TASK_EDIT_VIEW)(handle_task_edit_submission)
    app.view(ids.CANCEL_VIEW)(handle_task_cancel_submission)
    app.view(ids.DEAL_VIEW)(handle_deal_submission)
    app.view(ids.LOST_VIEW)(handle_lost_submission)
    app.view(ids.REOPEN_VIEW)(handle_reopen_submission)
    app.view(ids.LOG_VIEW)(handle_log_submission)
    app.view(ids.CONFIG_VIEW)(handle_config_submission)
    app.view(ids.SUGGEST_VIEW)(handle_suggest_submission)
    app.view(ids.SURVEY_COMMENT_VIEW)(handle_survey_comment_submission)
    app.view(ids.TARGET_SPLIT_VIEW)(handle_target_split_submission)
    app.view(ids.STANDUP_VIEW)(handle_checkin_submission)
