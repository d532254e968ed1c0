"""Create orders."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("customer_id", sa.BigInteger),
        sa.Column("region", sa.Text),
    )
    op.create_index("orders_region_idx", "orders", ["region"])  # a new table: fine


def downgrade():
    op.drop_table("orders")
