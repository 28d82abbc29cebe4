"""shared send budget, outbox blobs, retention days, outbox indexes for housekeeping and claiming

Revision ID: 0010_shared_budget
Revises: 0009_oauth
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.models


revision = '0010_shared_budget'
down_revision = '0009_oauth'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('send_budget',
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('window_no', sa.BigInteger(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('updated_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope')
    )
    with op.batch_alter_table('send_budget', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_send_budget_updated_at'), ['updated_at'], unique=False)
    op.create_table('outbox_blob',
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('last_used_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('workspace_id', 'digest')
    )
    with op.batch_alter_table('outbox_blob', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_blob_last_used_at'), ['last_used_at'], unique=False)
    with op.batch_alter_table('sales_team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), server_default='30', nullable=False))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_pending_due', ['not_before', 'id'], unique=False,
                              postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending_due')
        batch_op.drop_index('ix_outbox_status_created')
    with op.batch_alter_table('sales_team', schema=None) as batch_op:
        batch_op.drop_column('retention_days')
    with op.batch_alter_table('outbox_blob', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_blob_last_used_at'))
    op.drop_table('outbox_blob')
    with op.batch_alter_table('send_budget', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_send_budget_updated_at'))
    op.drop_table('send_budget')
