"""Dramatiq broker setup, thin actors (ids in, one service call) and the scheduler."""
