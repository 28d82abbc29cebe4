"""team settings for deal alerts and survey reminders

Revision ID: 0008_alerts
Revises: 0007_standup
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_alerts'
down_revision = '0007_standup'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sales_team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('survey_reminder_days', sa.Integer(), nullable=False, server_default='3'))
        batch_op.add_column(sa.Column('deal_alert_channel_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('deal_alert_min_amount', sa.BigInteger(), nullable=True, server_default='10000000'))


def downgrade() -> None:
    with op.batch_alter_table('sales_team', schema=None) as batch_op:
        batch_op.drop_column('deal_alert_min_amount')
        batch_op.drop_column('deal_alert_channel_id')
        batch_op.drop_column('survey_reminder_days')
