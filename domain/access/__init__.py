"""Identities and roles (用户与角色): the `Access` aggregate of users, role grants and API tokens."""
