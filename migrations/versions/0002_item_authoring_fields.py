"""item authoring fields: sub-domain, question type, cognitive level, status, rationales,
references, author, enemies, image assets, content hash and banked difficulty on item versions
and scenario sets; sub-domains on content domains; the image_assets table.

Existing rows (the demo bank) keep working: new columns are nullable or have defaults.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 20:06:25.325198
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('image_assets',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_image_assets'))
    )
    with op.batch_alter_table('content_domains', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subdomains', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))

    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subdomain_code', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('question_type', sa.Enum('direct', 'scenario-based', 'best-practice', name='questiontype', native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('cognitive_level', sa.Enum('recall', 'application', 'analysis', name='cognitivelevel', native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('status', sa.Enum('draft', 'review', 'pretest', 'operational', 'retired', name='status', native_enum=False, length=20), server_default='operational', nullable=False))
        batch_op.add_column(sa.Column('rationales', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
        batch_op.add_column(sa.Column('references', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('author', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('enemies', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('assets', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('difficulty', sa.Float(), nullable=True))

    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('question_codes', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('author', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('status', sa.Enum('draft', 'review', 'pretest', 'operational', 'retired', name='status', native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('references', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('assets', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_scenarios_programme_id_programmes'), 'programmes', ['programme_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_scenarios_programme_id_programmes'), type_='foreignkey')
        batch_op.drop_column('content_hash')
        batch_op.drop_column('assets')
        batch_op.drop_column('references')
        batch_op.drop_column('status')
        batch_op.drop_column('author')
        batch_op.drop_column('question_codes')
        batch_op.drop_column('programme_id')

    with op.batch_alter_table('item_versions', schema=None) as batch_op:
        batch_op.drop_column('difficulty')
        batch_op.drop_column('content_hash')
        batch_op.drop_column('assets')
        batch_op.drop_column('enemies')
        batch_op.drop_column('author')
        batch_op.drop_column('references')
        batch_op.drop_column('rationales')
        batch_op.drop_column('status')
        batch_op.drop_column('cognitive_level')
        batch_op.drop_column('question_type')
        batch_op.drop_column('subdomain_code')

    with op.batch_alter_table('content_domains', schema=None) as batch_op:
        batch_op.drop_column('subdomains')

    op.drop_table('image_assets')
