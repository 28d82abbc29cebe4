"""the standup: team check-in settings, check-in answers and meeting actions

Revision ID: 0007_standup
Revises: 0006_deal_lost_reason
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.models


revision = '0007_standup'
down_revision = '0006_deal_lost_reason'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sales_team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standup_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('standup_time', sqlmodel.sql.sqltypes.AutoString(length=5), server_default='16:00', nullable=False))
        batch_op.add_column(sa.Column('standup_daily', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('standup_daily_time', sqlmodel.sql.sqltypes.AutoString(length=5), server_default='10:00', nullable=False))
        batch_op.add_column(sa.Column('standup_questions', sa.Text(), nullable=True))
    op.create_table('checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('answers', sa.Text(), nullable=False),
    sa.Column('blocker', sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=False),
    sa.Column('confidence', sa.Integer(), nullable=True),
    sa.Column('answered_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['sales_team.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', 'member_id', 'period')
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index('ix_checkin_team_period', ['team_id', 'period'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_workspace_id'), ['workspace_id'], unique=False)
    op.create_table('meeting_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('created_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['sales_team.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('meeting_action', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_action_team_period', ['team_id', 'period'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_action_workspace_id'), ['workspace_id'], unique=False)


def downgrade() -> None:
    op.drop_table('meeting_action')
    op.drop_table('checkin')
    with op.batch_alter_table('sales_team', schema=None) as batch_op:
        for column in ('standup_questions', 'standup_daily_time', 'standup_daily', 'standup_time', 'standup_enabled'):
            batch_op.drop_column(column)
