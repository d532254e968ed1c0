"""PostgreSQL: connecting and introspecting. The only code that reads a server's catalog."""

#: The engine's name in the registry, in reports and in errors.
ENGINE_NAME = "postgresql"
