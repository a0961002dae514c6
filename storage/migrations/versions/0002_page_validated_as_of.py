"""pages.validated_as_of: when a page's evidence was last confirmed by a request

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:30:00

The crawler copies the rows of pages under unchanged columns from the previous run without requesting them
again, and must revalidate any whose evidence is older than GOVAUDIT_REVALIDATE_DAYS; the copied row keeps
the as-of date of the run whose request (a 200 or a 304) last vouched for it. Rows written before this
revision were all requested in their own run: NULL means "the as-of date of the row's own run".
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('pages', sa.Column('validated_as_of', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pages') as batch:
        batch.drop_column('validated_as_of')
