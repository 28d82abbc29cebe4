"""request edge: remembered request signatures; processed events indexed for pruning

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 02:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('request_signature',
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('expires_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('signature')
    )
    with op.batch_alter_table('request_signature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_signature_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('processed_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_event_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('processed_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_event_received_at'))

    with op.batch_alter_table('request_signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_signature_expires_at'))

    op.drop_table('request_signature')
