"""The Django project of the Income Management System and its domain apps."""
