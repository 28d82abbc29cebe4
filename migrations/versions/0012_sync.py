"""sync runs and their errors, webhook endpoints, scheduled pull sources

Revision ID: 0012_sync
Revises: 0011_api
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.models


revision = '0012_sync'
down_revision = '0011_api'
branch_labels = None
depends_on = None


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    op.create_table('sync_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('kind', _enum('api_batch', 'webhook', 'pull', name='syncrunkind'), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('status', _enum('ok', 'unchanged', 'failed', name='syncrunstatus'), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('started_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sync_run_ws_started', 'sync_run', ['workspace_id', 'started_at'], unique=False)
    op.create_table('sync_error',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['sync_run.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_sync_error_run_id'), 'sync_error', ['run_id'], unique=False)
    op.create_table('webhook_endpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('events', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('failing_since', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'url')
    )
    op.create_index(op.f('ix_webhook_endpoint_workspace_id'), 'webhook_endpoint', ['workspace_id'], unique=False)
    op.create_table('sync_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('auth_header', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('every_minutes', sa.Integer(), nullable=False),
    sa.Column('etag', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('next_due_at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failing_since', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'kind')
    )
    op.create_index(op.f('ix_sync_source_workspace_id'), 'sync_source', ['workspace_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sync_source_workspace_id'), table_name='sync_source')
    op.drop_table('sync_source')
    op.drop_index(op.f('ix_webhook_endpoint_workspace_id'), table_name='webhook_endpoint')
    op.drop_table('webhook_endpoint')
    op.drop_index(op.f('ix_sync_error_run_id'), table_name='sync_error')
    op.drop_table('sync_error')
    op.drop_index('ix_sync_run_ws_started', table_name='sync_run')
    op.drop_table('sync_run')
