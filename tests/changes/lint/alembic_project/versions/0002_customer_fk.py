"""Index and constrain customer_id: the unsafe way, as autogenerate writes it."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.create_index("orders_customer_idx", "orders", ["customer_id"])
    op.create_foreign_key("orders_customer_fk", "orders", "customers", ["customer_id"], ["id"])
    op.alter_column("orders", "region", nullable=False)
    op.add_column("orders", sa.Column("token", sa.Uuid, server_default=sa.text("gen_random_uuid()")))


def downgrade():
    op.drop_column("orders", "token")
    op.alter_column("orders", "region", nullable=True)
    op.drop_constraint("orders_customer_fk", "orders")
    op.drop_index("orders_customer_idx")
