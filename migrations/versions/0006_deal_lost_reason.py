"""why a deal was lost (a category and the rep's words), on the deal and on its stage change; the reason a deal was reopened

Revision ID: 0006_deal_lost_reason
Revises: 0005_own_tasks
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006_deal_lost_reason'
down_revision = '0005_own_tasks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lost_reason', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('lost_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False, server_default=''))
    with op.batch_alter_table('deal_stage_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('deal_stage_change', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('reason')
    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.drop_column('lost_note')
        batch_op.drop_column('lost_reason')
