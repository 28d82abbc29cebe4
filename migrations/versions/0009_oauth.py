"""OAuth install: each workspace's installation (its bot token), issued states, and when a workspace uninstalled

Revision ID: 0009_oauth
Revises: 0008_alerts
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.models


revision = '0009_oauth'
down_revision = '0008_alerts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('workspace', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uninstalled_at', bot.models.UTCDateTime(timezone=True), nullable=True))

    op.create_table('slack_installation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('enterprise_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('app_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('bot_token', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('bot_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('bot_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('bot_scopes', sa.Text(), server_default='', nullable=False),
    sa.Column('installer_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('installed_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id')
    )
    with op.batch_alter_table('slack_installation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_installation_workspace_id'), ['workspace_id'], unique=True)

    op.create_table('oauth_state',
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('digest')
    )
    with op.batch_alter_table('oauth_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_state_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oauth_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_state_expires_at'))
    op.drop_table('oauth_state')
    with op.batch_alter_table('slack_installation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_installation_workspace_id'))
    op.drop_table('slack_installation')
    with op.batch_alter_table('workspace', schema=None) as batch_op:
        batch_op.drop_column('uninstalled_at')
