"""A minimal Alembic environment, offline mode only: `alembic upgrade head --sql` prints the SQL."""

from alembic import context

config = context.config
context.configure(
    url=config.get_main_option("sqlalchemy.url"), literal_binds=True, transaction_per_migration=True
)
with context.begin_transaction():
    context.run_migrations()
