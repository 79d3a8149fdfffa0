"""Staff accounts and the roles that say what each may do."""
