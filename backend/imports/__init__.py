"""Diff-before-apply imports with guards, holds and rollback."""
