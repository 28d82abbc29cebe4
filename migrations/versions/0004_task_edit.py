"""task cards (where each member's DM card is, for redraws and notice threads) and the notices switch

Revision ID: 0004_task_edit
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.models


revision = '0004_task_edit'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_card',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'member_id')
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_notices', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('task_notices')
    op.drop_table('task_card')
