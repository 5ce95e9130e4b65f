"""System call handlers (glue) and the table that names them all."""
