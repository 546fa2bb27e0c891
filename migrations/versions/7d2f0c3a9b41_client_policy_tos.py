"""client policy and terms links (OIDC Registration policy_uri, tos_uri)

Revision ID: 7d2f0c3a9b41
Revises: ca15d6ce3c2a
Create Date: 2026-12-01 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2f0c3a9b41'
down_revision = 'ca15d6ce3c2a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy_uri', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('tos_uri', sa.String(length=2000), nullable=True))


def downgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('tos_uri')
        batch_op.drop_column('policy_uri')
