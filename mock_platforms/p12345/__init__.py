"""Mock of the 12345 work-order platform (PLATFORMS.md §1): signed JSON API, pushes, pull feed."""

from mock_platforms.p12345.app import app_from_options, create_app
from mock_platforms.p12345.config import P12345MockConfig
from mock_platforms.p12345.signing import signature, signed_headers

__all__ = ["P12345MockConfig", "app_from_options", "create_app", "signature", "signed_headers"]
