"""logout requests remember the sign-out request's language (ui_locales)

Revision ID: c5e19a7d3b62
Revises: b41c7e2d9f10
Create Date: 2026-12-01 17:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e19a7d3b62'
down_revision = 'b41c7e2d9f10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('logout_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ui_locales', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('logout_requests', schema=None) as batch_op:
        batch_op.drop_column('ui_locales')
