"""PostgreSQL: connecting and introspecting. The only code that reads a server's catalog."""
