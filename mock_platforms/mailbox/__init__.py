"""Mock of the 局长信箱 director's mailbox (PLATFORMS.md §4): Bearer REST, change feed, epoch ms."""

from mock_platforms.mailbox.app import app_from_options, create_app
from mock_platforms.mailbox.config import MailboxMockConfig

__all__ = ["MailboxMockConfig", "app_from_options", "create_app"]
