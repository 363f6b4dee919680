"""The first-run set-up, finished: the key and server URL the set-up panel took are saved to
the config file and applied to this session's client, and the panel goes away.

Kept out of the main screen, whose ``@on(SetupPanel.Saved)`` handler passes the event here.
A config file that cannot be written is said in one line and the panel stays, so nothing
typed is lost.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tui.core.config import ConfigError, save_settings
from tui.ui.served_check import check_served_model
from tui.ui.widgets.setup_panel import SetupPanel

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen

log = logging.getLogger(__name__)


def save_setup(screen: MainScreen, event: SetupPanel.Saved) -> None:
    updates = {}
    if event.api_key:
        updates["api_key"] = event.api_key
    if event.base_url:
        updates["base_url"] = event.base_url
    try:
        path = save_settings(updates)
    except (ConfigError, OSError) as error:
        log.exception("saving the settings failed")
        screen.notify(f"Could not save the settings: {error}", severity="error")
        return
    screen.services.reconfigure(api_key=event.api_key, base_url=event.base_url)
    screen.query_one(SetupPanel).remove()
    screen.notify(f"Saved to {path}")
    screen.set_focus(screen.composer)
    check_served_model(screen)  # a local server's models are known now
