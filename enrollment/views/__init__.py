"""Roster pages. Thin: forms validate shapes, services write, selectors read."""
