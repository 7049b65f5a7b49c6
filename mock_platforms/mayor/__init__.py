"""Mock of the mayor's hotline (PLATFORMS.md §3): GBK JSON, token query, HTML maintenance pages, pull only."""

from mock_platforms.mayor.app import app_from_options, create_app
from mock_platforms.mayor.config import MayorMockConfig

__all__ = ["MayorMockConfig", "app_from_options", "create_app"]
