"""saved modal submissions (view id and hash), so a resubmitted view saves once

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_submission',
    sa.Column('view_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('view_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('saved_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('view_id', 'view_hash')
    )
    with op.batch_alter_table('saved_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_submission_saved_at'), ['saved_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('saved_submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_submission_saved_at'))
    op.drop_table('saved_submission')
