"""Mock of the 12389 police complaint platform (PLATFORMS.md §2): OAuth2, XML, newest-first offset list."""

from mock_platforms.p12389.app import app_from_options, create_app
from mock_platforms.p12389.config import P12389MockConfig

__all__ = ["P12389MockConfig", "app_from_options", "create_app"]
