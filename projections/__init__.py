"""Read models folded from the log. Pure code: no database access here."""
