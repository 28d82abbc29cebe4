"""API: tokens, idempotency keys, rate windows; updated_at and a database-assigned change sequence on the synced tables

Revision ID: 0011_api
Revises: 0010_shared_budget
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.models


revision = '0011_api'
down_revision = '0010_shared_budget'
branch_labels = None
depends_on = None

# The tables the API serves, and the column an added updated_at starts from.
SYNCED = {
    'member': 'created_at', 'customer': 'created_at', 'deal': None, 'task': None, 'target': None,
    'activity': 'occurred_at', 'expense': 'created_at', 'survey': 'created_at',
}


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scope', sa.Enum('read', 'write', name='apiscope', native_enum=False, length=32), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hint', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash'),
    sa.UniqueConstraint('workspace_id', 'name'),
    )
    op.create_index('ix_api_token_workspace_id', 'api_token', ['workspace_id'])
    op.create_table('api_idempotency',
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_id', 'key'),
    )
    op.create_index('ix_api_idempotency_expires_at', 'api_idempotency', ['expires_at'])
    op.create_table('api_rate_window',
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('window', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_id', 'window'),
    )

    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, since in SYNCED.items():
        if since is not None:
            op.add_column(table, sa.Column('updated_at', bot.models.UTCDateTime(timezone=True), nullable=True))
            op.execute(f'UPDATE {table} SET updated_at = {since}')
        op.add_column(table, sa.Column('change_seq', sa.BigInteger(), nullable=True))
        op.create_index(f'ix_{table}_ws_change', table, ['workspace_id', 'change_seq', 'id'])
    if sqlite:
        # SQLite has one writer at a time, so a counter bumped inside the write is in commit order.
        op.execute('CREATE TABLE change_counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)')
        op.execute('INSERT INTO change_counter (id, value) VALUES (1, 0)')
        for table in SYNCED:
            # The WHEN keeps the trigger's own numbering (which changes change_seq) from counting as a second write.
            for event, when in (('INSERT', ''), ('UPDATE', ' WHEN NEW.change_seq IS OLD.change_seq')):
                op.execute(
                    f'CREATE TRIGGER {table}_change_{event.lower()} AFTER {event} ON {table}{when} BEGIN '
                    'UPDATE change_counter SET value = value + 1 WHERE id = 1; '
                    f'UPDATE {table} SET change_seq = (SELECT value FROM change_counter WHERE id = 1) WHERE id = NEW.id; END'
                )
    else:
        # PostgreSQL: the writing transaction's id; readers stop below the oldest transaction still running.
        op.execute(
            'CREATE FUNCTION salesbot_change_seq() RETURNS trigger LANGUAGE plpgsql AS $$ '
            'BEGIN NEW.change_seq := pg_current_xact_id()::text::bigint; RETURN NEW; END $$'
        )
        for table in SYNCED:
            op.execute(f'CREATE TRIGGER {table}_change BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION salesbot_change_seq()')
    for table in SYNCED:
        # The triggers number the rows already there (on SQLite an update leaving change_seq alone fires them).
        op.execute(f'UPDATE {table} SET {"id = id" if sqlite else "change_seq = NULL"}')


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, since in SYNCED.items():
        if sqlite:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_change_insert')
            op.execute(f'DROP TRIGGER IF EXISTS {table}_change_update')
        else:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_change ON {table}')
        op.drop_index(f'ix_{table}_ws_change', table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('change_seq')
            if since is not None:
                batch_op.drop_column('updated_at')
    if sqlite:
        op.execute('DROP TABLE change_counter')
    else:
        op.execute('DROP FUNCTION IF EXISTS salesbot_change_seq()')
    op.drop_table('api_rate_window')
    op.drop_table('api_idempotency')
    op.drop_index('ix_api_token_workspace_id', table_name='api_token')
    op.drop_table('api_token')
