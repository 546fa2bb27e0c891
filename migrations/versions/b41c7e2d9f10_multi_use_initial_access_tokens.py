"""multi-use initial access tokens (max_uses, uses)

Revision ID: b41c7e2d9f10
Revises: 7d2f0c3a9b41
Create Date: 2026-12-01 16:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b41c7e2d9f10'
down_revision = '7d2f0c3a9b41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('initial_access_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_uses', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('uses', sa.Integer(), server_default='0', nullable=False))
    # A token used before this revision has no uses left.
    op.execute("UPDATE initial_access_tokens SET uses = 1 WHERE used_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('initial_access_tokens', schema=None) as batch_op:
        batch_op.drop_column('uses')
        batch_op.drop_column('max_uses')
