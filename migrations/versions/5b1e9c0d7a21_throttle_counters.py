"""throttle counters: one database throttle for passwords, second factors, passkeys and user codes

Revision ID: 5b1e9c0d7a21
Revises: 27abb82a9326
Create Date: 2026-12-01 14:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e9c0d7a21'
down_revision = '27abb82a9326'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'throttle_counters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('window_ends_at', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_throttle_counters')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_throttle_counters_key_hash')),
    )
    with op.batch_alter_table('throttle_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_throttle_counters_window_ends_at'), ['window_ends_at'], unique=False)


def downgrade():
    with op.batch_alter_table('throttle_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttle_counters_window_ends_at'))
    op.drop_table('throttle_counters')
