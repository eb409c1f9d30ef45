"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 01:02:47.584899
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contributing_factor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('PERSONAL', 'TECH_DEBT_CULTURE', 'PROCESS_COMMUNICATION', 'CHANCE', name='causecategory', native_enum=False, length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contributing_factor')),
    sa.UniqueConstraint('category', 'name', name=op.f('uq_contributing_factor_category'))
    )
    op.create_table('growth_stage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('min_headcount', sa.Integer(), nullable=False),
    sa.Column('max_headcount', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.CheckConstraint('max_headcount IS NULL OR max_headcount >= min_headcount', name=op.f('ck_growth_stage_band_ordered')),
    sa.CheckConstraint('min_headcount >= 0', name=op.f('ck_growth_stage_min_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_growth_stage')),
    sa.UniqueConstraint('name', name=op.f('uq_growth_stage_name'))
    )
    op.create_table('guard_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('AUTOMATED_TEST', 'CI_GATE', 'MONITOR', 'CHECKLIST_ITEM', 'REVIEW_RULE', 'RUNBOOK', 'OTHER', name='guardkind', native_enum=False, length=32), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=False),
    sa.Column('description_md', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('status', sa.Enum('PROPOSED', 'ACTIVE', 'RETIRED', name='guardstatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guard_check')),
    sa.UniqueConstraint('name', name=op.f('uq_guard_check_name'))
    )
    op.create_table('tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
    sa.UniqueConstraint('name', name=op.f('uq_tag_name'))
    )
    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('name', name=op.f('uq_team_name'))
    )
    op.create_table('headcount_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.CheckConstraint('headcount >= 0', name=op.f('ck_headcount_snapshot_headcount_not_negative')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_headcount_snapshot_team_id_team'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_headcount_snapshot')),
    sa.UniqueConstraint('team_id', 'on_date', name=op.f('uq_headcount_snapshot_team_id'))
    )
    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('severity', sa.Enum('SEV1', 'SEV2', 'SEV3', 'SEV4', name='severity', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('DRAFT', 'IN_REVIEW', 'PUBLISHED', name='incidentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('affected_system', sa.String(length=200), nullable=False),
    sa.Column('environment', sa.String(length=60), nullable=False),
    sa.Column('started_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('started_is_estimated', sa.Boolean(), nullable=False),
    sa.Column('detected_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('detected_is_estimated', sa.Boolean(), nullable=False),
    sa.Column('mitigated_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('mitigated_is_estimated', sa.Boolean(), nullable=False),
    sa.Column('resolved_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('resolved_is_estimated', sa.Boolean(), nullable=False),
    sa.Column('what_happened_md', sa.Text(), nullable=False),
    sa.Column('analysis_md', sa.Text(), nullable=False),
    sa.Column('detection_md', sa.Text(), nullable=False),
    sa.Column('response_md', sa.Text(), nullable=False),
    sa.Column('went_well_md', sa.Text(), nullable=False),
    sa.Column('got_lucky_md', sa.Text(), nullable=False),
    sa.Column('is_near_miss', sa.Boolean(), nullable=False),
    sa.Column('exclude_from_metrics', sa.Boolean(), nullable=False),
    sa.Column('recurrence_of_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recurrence_of_id'], ['incident.id'], name=op.f('fk_incident_recurrence_of_id_incident'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_incident_team_id_team'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident')),
    sa.UniqueConstraint('key', name=op.f('uq_incident_key'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_team_id'), ['team_id'], unique=False)

    op.create_table('action_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('details_md', sa.Text(), nullable=False),
    sa.Column('group', sa.Enum('TECHNICAL', 'PROCESS_COMMUNICATION', 'PERSONAL', name='lessongroup', native_enum=False, length=32), nullable=False),
    sa.Column('type', sa.Enum('PREVENTIVE', 'DETECTIVE', 'CORRECTIVE', name='actiontype', native_enum=False, length=32), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('OPEN', 'IN_PROGRESS', 'DONE', 'WONT_DO', name='actionstatus', native_enum=False, length=32), nullable=False),
    sa.Column('wont_do_reason', sa.Text(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('tracker_url', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_action_item_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_item'))
    )
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_item_incident_id'), ['incident_id'], unique=False)

    op.create_table('impact_estimate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('LOST_REVENUE', 'DIRECT_COST', 'ITEMS_PROCESSED_WRONGLY', 'CUSTOMERS_AFFECTED', 'TIME_UNDETECTED', 'DOWNTIME', 'RELEASE_DELAY', 'ENGINEERING_EFFORT', 'REPUTATION', 'LEGAL', 'HEALTH_SAFETY', name='impactkind', native_enum=False, length=32), nullable=False),
    sa.Column('low', models.base.ExactDecimal(precision=24, scale=6), nullable=True),
    sa.Column('likely', models.base.ExactDecimal(precision=24, scale=6), nullable=True),
    sa.Column('high', models.base.ExactDecimal(precision=24, scale=6), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('level', sa.Enum('NONE', 'MINOR', 'MODERATE', 'MAJOR', 'SEVERE', name='impactlevel', native_enum=False, length=32), nullable=True),
    sa.Column('method_note', sa.Text(), nullable=False),
    sa.Column('estimated_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_impact_estimate_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_impact_estimate'))
    )
    with op.batch_alter_table('impact_estimate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_impact_estimate_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_factor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('factor_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['factor_id'], ['contributing_factor.id'], name=op.f('fk_incident_factor_factor_id_contributing_factor')),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_factor_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_factor')),
    sa.UniqueConstraint('incident_id', 'factor_id', name=op.f('uq_incident_factor_incident_id'))
    )
    with op.batch_alter_table('incident_factor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_factor_factor_id'), ['factor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_factor_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_tag',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_tag_incident_id_incident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_incident_tag_tag_id_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'tag_id', name=op.f('pk_incident_tag'))
    )
    op.create_table('lesson',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('group', sa.Enum('TECHNICAL', 'PROCESS_COMMUNICATION', 'PERSONAL', name='lessongroup', native_enum=False, length=32), nullable=False),
    sa.Column('text_md', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_lesson_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson'))
    )
    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_incident_id'), ['incident_id'], unique=False)

    op.create_table('timeline_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(), nullable=False),
    sa.Column('text_md', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_timeline_event_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_event'))
    )
    with op.batch_alter_table('timeline_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_event_incident_id'), ['incident_id'], unique=False)

    op.create_table('action_item_guard',
    sa.Column('action_item_id', sa.Integer(), nullable=False),
    sa.Column('guard_check_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_item_id'], ['action_item.id'], name=op.f('fk_action_item_guard_action_item_id_action_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['guard_check_id'], ['guard_check.id'], name=op.f('fk_action_item_guard_guard_check_id_guard_check'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('action_item_id', 'guard_check_id', name=op.f('pk_action_item_guard'))
    )


    seed_contributing_factors()


# The starting factors of DESIGN.md's four cause categories. A frozen copy: later changes to
# the taxonomy come as new migrations or through the admin page, never by editing this list.
SEED_FACTORS = {
    "PERSONAL": [
        "Fatigue",
        "Low motivation",
        "Constant context switching",
        "Rules not followed",
    ],
    "TECH_DEBT_CULTURE": [
        "Missing tests",
        "Tangled code and configs",
        "Awkward experiment setup",
        "No versioning",
        "No monitoring or alerts",
        "Poor documentation",
        "Poor or outdated test datasets",
        "No quick rollback",
    ],
    "PROCESS_COMMUNICATION": [
        "Misunderstanding between teams",
        "Misread business requirements or wrong problem statement",
        "No release checklists",
        "Weak process for new clients",
        "Data format changed in an external source",
        "Human factor ignored in how the system is used",
    ],
    "CHANCE": ["Everything lined up against us"],
}


def seed_contributing_factors() -> None:
    factor = sa.table(
        "contributing_factor",
        sa.column("category", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
    )
    op.bulk_insert(
        factor,
        [
            {"category": category, "name": name, "description": ""}
            for category, names in SEED_FACTORS.items()
            for name in names
        ],
    )


def downgrade() -> None:
    op.drop_table('action_item_guard')
    with op.batch_alter_table('timeline_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_event_incident_id'))

    op.drop_table('timeline_event')
    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_incident_id'))

    op.drop_table('lesson')
    op.drop_table('incident_tag')
    with op.batch_alter_table('incident_factor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_factor_incident_id'))
        batch_op.drop_index(batch_op.f('ix_incident_factor_factor_id'))

    op.drop_table('incident_factor')
    with op.batch_alter_table('impact_estimate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_impact_estimate_incident_id'))

    op.drop_table('impact_estimate')
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_item_incident_id'))

    op.drop_table('action_item')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_team_id'))
        batch_op.drop_index(batch_op.f('ix_incident_started_at'))

    op.drop_table('incident')
    op.drop_table('headcount_snapshot')
    op.drop_table('team')
    op.drop_table('tag')
    op.drop_table('guard_check')
    op.drop_table('growth_stage')
    op.drop_table('contributing_factor')
