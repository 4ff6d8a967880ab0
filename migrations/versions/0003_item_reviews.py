"""item reviews: the item_reviews table (the review workflow: status changes of item
versions with reviewer, comment and time) and item_versions.created_at (version history).

Versions stored before this migration keep created_at NULL ("unknown"). The new status
'approved' needs no DDL: statuses are stored as their value in a VARCHAR(20).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 20:37:36.763354
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import webapp.models.base


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('item_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_version_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=60), nullable=False),
    sa.Column('from_status', sa.Enum('draft', 'review', 'approved', 'pretest', 'operational', 'retired', name='status', native_enum=False, length=20), nullable=False),
    sa.Column('to_status', sa.Enum('draft', 'review', 'approved', 'pretest', 'operational', 'retired', name='status', native_enum=False, length=20), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_version_id'], ['item_versions.id'], name=op.f('fk_item_reviews_item_version_id_item_versions')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_item_reviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_reviews'))
    )
    with op.batch_alter_table('item_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_reviews_item_code'), ['item_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_reviews_item_version_id'), ['item_version_id'], unique=False)

    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.drop_column('created_at')

    with op.batch_alter_table('item_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_reviews_item_version_id'))
        batch_op.drop_index(batch_op.f('ix_item_reviews_item_code'))

    op.drop_table('item_reviews')
