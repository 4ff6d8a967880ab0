"""form assembly: forms.assembly (the stored assembly report) and form_items.anchor (anchor
items, common to the forms assembled together).

Forms stored before this migration keep assembly NULL and no anchor items.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 21:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assembly', sa.JSON(), nullable=True))

    with op.batch_alter_table('form_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anchor', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('form_items', schema=None) as batch_op:
        batch_op.drop_column('anchor')

    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.drop_column('assembly')
