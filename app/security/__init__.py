"""Roles, department scope, the security manager and user administration."""
