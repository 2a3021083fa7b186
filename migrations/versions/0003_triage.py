"""Triage and the response loop: assignments with due dates, extension and
transfer requests, the append-only audit log, feedback, the working-day
calendar, partner categories and resources, settings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:12:59.891921

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('holiday', 'workday', name='daykind', native_enum=False, length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=50), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('organisation_resources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('experts', 'venues', 'equipment', 'funds', 'training', 'volunteers', name='resourcekind', native_enum=False, length=20), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_resources_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_resources'))
    )
    with op.batch_alter_table('organisation_resources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_resources_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=40), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_action_created', ['action', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_entries_actor_created', ['actor_id', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_entries_created', ['created_at'], unique=False)
        batch_op.create_index('ix_audit_entries_object', ['object_type', 'object_id'], unique=False)

    op.create_table('organisation_categories',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_organisation_categories_category_id_categories')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_categories_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('organisation_id', 'category_id', name=op.f('pk_organisation_categories'))
    )
    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'accepted', 'declined', 'completed', 'transferred', 'cancelled', name='assignmentstate', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('response_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_assignments_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_assignments_need_id_needs')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_assignments_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_need', ['need_id', 'id'], unique=False)
        batch_op.create_index('ix_assignments_org_state_due', ['organisation_id', 'state', 'due_at'], unique=False)
        batch_op.create_index('ix_assignments_state_due', ['state', 'due_at'], unique=False)

    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('respondent', sa.String(length=30), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('is_submitter', sa.Boolean(), nullable=False),
    sa.Column('resolved', sa.Enum('yes', 'partly', 'no', name='resolved', native_enum=False, length=20), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('satisfaction BETWEEN 1 AND 5', name=op.f('ck_feedback_satisfaction_range')),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_feedback_need_id_needs')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_feedback_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
    sa.UniqueConstraint('need_id', 'cycle', 'respondent', name='uq_feedback_once')
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_created', ['created_at'], unique=False)

    op.create_table('assignment_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('extension', 'transfer', name='requestkind', native_enum=False, length=20), nullable=False),
    sa.Column('state', sa.Enum('pending', 'granted', 'refused', name='requeststate', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('to_organisation_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_assignment_requests_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_assignment_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_assignment_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['to_organisation_id'], ['organisations.id'], name=op.f('fk_assignment_requests_to_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_requests'))
    )
    with op.batch_alter_table('assignment_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_requests_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index('ix_assignment_requests_state', ['state', 'created_at'], unique=False)

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolution_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_needs_status_resolved', ['status', 'resolved_at'], unique=False)

    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_timeline_events_org_move', ['organisation_id', 'move', 'created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_timeline_events_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id'])

    op.create_table(
        "quality_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("sample", sa.String(length=40), nullable=False),
        sa.Column("drawn_by_id", sa.Integer(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["checked_by_id"], ["users.id"], name=op.f("fk_quality_checks_checked_by_id_users")),
        sa.ForeignKeyConstraint(["drawn_by_id"], ["users.id"], name=op.f("fk_quality_checks_drawn_by_id_users")),
        sa.ForeignKeyConstraint(["need_id"], ["needs.id"], name=op.f("fk_quality_checks_need_id_needs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_checks")),
    )
    with op.batch_alter_table("quality_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_checks_need_id"), ["need_id"], unique=False)
        batch_op.create_index("ix_quality_checks_sample", ["sample", "id"], unique=False)

    # Needs already with a partner get the assignment they would have had.
    op.execute(
        """
        INSERT INTO assignments (need_id, organisation_id, note, state, created_at,
                                 response_due_at, due_at, decline_reason)
        SELECT id, assigned_organisation_id, '',
               CASE WHEN status = 'routed' THEN 'pending' ELSE 'accepted' END,
               updated_at, updated_at, updated_at, ''
        FROM needs
        WHERE assigned_organisation_id IS NOT NULL
          AND status IN ('routed', 'accepted', 'in_progress')
        """
    )
    if op.get_bind().dialect.name == "postgresql":
        # Nothing may edit or delete audit rows, not even a stray SQL session.
        op.execute(
            """
            CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit entries are append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            """
            CREATE TRIGGER audit_entries_append_only
            BEFORE UPDATE OR DELETE ON audit_entries
            FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
            """
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    op.drop_table("quality_checks")

    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_timeline_events_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_index('ix_timeline_events_org_move')
        batch_op.drop_column('organisation_id')

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index('ix_needs_status_resolved')
        batch_op.drop_column('resolution_count')
        batch_op.drop_column('resolved_at')

    with op.batch_alter_table('assignment_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_requests_state')
        batch_op.drop_index(batch_op.f('ix_assignment_requests_assignment_id'))

    op.drop_table('assignment_requests')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_created')

    op.drop_table('feedback')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_state_due')
        batch_op.drop_index('ix_assignments_org_state_due')
        batch_op.drop_index('ix_assignments_need')

    op.drop_table('assignments')
    op.drop_table('organisation_categories')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_object')
        batch_op.drop_index('ix_audit_entries_created')
        batch_op.drop_index('ix_audit_entries_actor_created')
        batch_op.drop_index('ix_audit_entries_action_created')

    op.drop_table('audit_entries')
    with op.batch_alter_table('organisation_resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_resources_organisation_id'))

    op.drop_table('organisation_resources')
    op.drop_table('settings')
    op.drop_table('calendar_days')

