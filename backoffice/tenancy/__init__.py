"""Councils (organisations), their staff's membership, and how a request finds its council."""
