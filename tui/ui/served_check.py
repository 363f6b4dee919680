"""After start-up (and the first-run set-up): is the built-in default model on the server?

Asks the server for its models once the first chat is on screen, and applies
tui.core.served_model: the server's only model replaces the built-in default for this
session's new chats, the unsaved chat on screen included; among several the user is told
to pick one. A stored chat keeps its model.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from tui.core.client_errors import ClientError
from tui.core.services import needs_setup
from tui.core.served_model import adopt_served, model_is_built_in, unserved_default

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen

log = logging.getLogger(__name__)


def check_served_model(screen: MainScreen) -> None:
    """Start the check in the background (nothing happens if a model was named)."""
    settings = screen.services.settings
    if model_is_built_in(settings) and not needs_setup(settings):
        screen.run_worker(_check(screen), group="served-model", exclusive=True)


async def _check(screen: MainScreen) -> None:
    services = screen.services
    try:
        served = [model.id for model in await services.client.list_models()]
    except ClientError:
        log.info("no model list to check the default model against", exc_info=True)
        return
    except Exception:  # an optional check: never the end of the app
        log.warning("checking the default model against the server failed", exc_info=True)
        return
    settings = services.settings
    found = unserved_default(settings, served)
    if found is None:
        return
    if adopt_served(settings, found):
        spec = screen.new_chat
        if screen.conversation is None and spec is not None and spec.model == found.default:
            screen.new_chat = replace(spec, model=settings.model)
    screen.notify(found.notice(), severity="information" if found.only else "warning",
                  timeout=10)
