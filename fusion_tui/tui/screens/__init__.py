"""Screens: one per module."""

from fusion_tui.tui.screens.dashboard import DashboardScreen

__all__ = ["DashboardScreen"]
