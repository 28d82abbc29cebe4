"""reps' own tasks, repeat rules, reminder and escalation settings

Revision ID: 0005_own_tasks
Revises: 0004_task_edit
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.models


revision = '0005_own_tasks'
down_revision = '0004_task_edit'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('workdays', 'weekly', 'monthly', 'quarterly', name='repeatkind', native_enum=False, length=32), nullable=False),
    sa.Column('weekdays', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
    sa.Column('month_day', sa.Integer(), nullable=True),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('next_on', sa.Date(), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('details', sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.Enum('lead', 'first_contact', 'needs_analysis', 'proposal', 'negotiation', 'after_sales', name='stage', native_enum=False, length=32), nullable=True),
    sa.Column('priority', sa.SmallInteger(), server_default='2', nullable=False),
    sa.Column('difficulty', sa.Integer(), nullable=False),
    sa.Column('assignee_ids', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('self_created', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['sales_team.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('task_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_rule_workspace_id'), ['workspace_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_rule_next_on'), ['next_on'], unique=False)

    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('self_created', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('rule_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('occurs_on', sa.Date(), nullable=True))
        batch_op.create_foreign_key('fk_task_rule_id_task_rule', 'task_rule', ['rule_id'], ['id'])
        batch_op.create_unique_constraint('uq_task_rule_occurs_on', ['rule_id', 'occurs_on'])

    with op.batch_alter_table('sales_team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_days', sa.SmallInteger(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('reminder_time', sa.String(length=5), server_default='09:00', nullable=False))
        batch_op.add_column(sa.Column('escalate_days', sa.SmallInteger(), server_default='2', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('sales_team', schema=None) as batch_op:
        batch_op.drop_column('escalate_days')
        batch_op.drop_column('reminder_time')
        batch_op.drop_column('reminder_days')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_constraint('uq_task_rule_occurs_on', type_='unique')
        batch_op.drop_constraint('fk_task_rule_id_task_rule', type_='foreignkey')
        batch_op.drop_column('occurs_on')
        batch_op.drop_column('rule_id')
        batch_op.drop_column('self_created')
    with op.batch_alter_table('task_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_rule_next_on'))
        batch_op.drop_index(batch_op.f('ix_task_rule_workspace_id'))
    op.drop_table('task_rule')
