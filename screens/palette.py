"""Command palette entries for every key binding of the current screen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ScreenCommands(Provider):
    """Offer the screen's key bindings and every binding the footer shows.

    Hidden bindings of widgets and of the app, such as cursor movement, are
    left out of the palette.
    """

    def _commands(self) -> list[tuple[str, str, object]]:
        screen = self.screen
        commands: list[tuple[str, str, object]] = []
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            own = active.node is screen
            if not binding.description or not active.enabled:
                continue
            if not (binding.show or own):
                continue
            if binding.description in seen or binding.action == "command_palette":
                continue
            seen.add(binding.description)
            key = binding.key_display or self.app.get_key_display(binding)
            run = partial(self.app.run_action, binding.action, active.node)
            commands.append((binding.description, f"key: {key}", run))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, run in self._commands():
            yield DiscoveryHit(name, run, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for name, help_text, run in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)  # type: ignore[arg-type]
