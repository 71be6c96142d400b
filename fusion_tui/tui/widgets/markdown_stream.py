"""Streamed markdown in one widget: each finished block is rendered once (Rich's markdown, at
the widget's width) and kept as lines; only the open block is rendered again as text arrives.

Textual's own `Markdown` widget mounts a widget per block (a bullet list is a dozen), and a
screen's layout pass is linear in its widgets: four advisor panes and a briefing streaming at
once reached 300+ widgets and layout passes of ~80 ms on the shared event loop, which the
proxy felt. This widget is one node in the tree whatever it shows, built on Textual's line
API (`ScrollView.render_line`), the way `RichLog` is.

Rich's markdown has its own fixed colours (inline code cyan on black, quotes magenta) and
code theme; here it renders on a console whose Rich theme is built from the app's theme
(`theming.markdown_styles`, `theming.code_theme`), and everything kept is rendered again when
the theme changes.
"""

from __future__ import annotations

from collections import deque
from io import StringIO

from rich.console import Console, ConsoleOptions
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.theme import Theme

from fusion_tui.tui.theming import code_theme, markdown_styles

FENCES = ("```", "~~~")


def split_finished(text: str) -> tuple[list[str], str]:
    """(finished blocks, the open rest) of streamed markdown. A block finishes at a blank
    line outside a code fence; a line still being written (no newline yet) is open."""
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False
    lines = text.splitlines(keepends=True)
    rest = ""
    if lines and not lines[-1].endswith("\n"):
        rest = lines.pop()
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(FENCES):
            in_fence = not in_fence
        if not stripped and not in_fence:
            if current:
                blocks.append("".join(current))
                current = []
            continue
        current.append(line)
    return blocks, "".join(current) + rest


class MarkdownStream(ScrollView, can_focus=False):
    """Markdown that grows at its end, following the end unless scrolled up. Keeps about the
    last `max_chars` characters of finished blocks (older blocks drop off the top); `source`
    is what it shows."""

    DEFAULT_CSS = """
    MarkdownStream { height: 1fr; overflow-x: hidden; scrollbar-gutter: stable; }
    """

    def __init__(self, max_chars: int = 4_000, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.max_chars = max_chars
        self._blocks: deque[tuple[str, list[Strip]]] = deque()
        self._block_chars = 0
        self._open = ""
        self._open_lines: list[Strip] = []
        self._lines: list[Strip] = []
        self._width = 0
        self._look: tuple[dict[str, str], Console, str] | None = None
        """(the theme variables it was built from, a console with their markdown styles,
        the code theme)."""
        self._options: ConsoleOptions | None = None
        self.follow = True
        """Follow the end as text arrives (while scrolled to it); False keeps the view where
        it is (a held briefing is read from its top)."""

    @property
    def source(self) -> str:
        """The markdown shown (finished blocks, blank-line separated, then the open one)."""
        return "".join(block + "\n" for block, _ in self._blocks) + self._open

    def update(self, text: str) -> None:
        """Show `text` from scratch."""
        self._blocks.clear()
        self._block_chars = 0
        self._open = ""
        self.append(text)

    def append(self, text: str) -> None:
        """Add `text` at the end: blocks it finishes are rendered once, the open one again."""
        if self._content_width() != self._width:
            self._rerender()
        finished, self._open = split_finished(self._open + text)
        for block in finished:
            self._blocks.append((block, self._render_block(block)))
            self._block_chars += len(block)
        while len(self._blocks) > 1 and self._block_chars > self.max_chars:
            block, _ = self._blocks.popleft()
            self._block_chars -= len(block)
        self._open_lines = self._render_block(self._open) if self._open.strip() else []
        self._relayout()

    def on_mount(self) -> None:
        """Follow the app's theme."""
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        """Render everything kept again in the new theme's colours."""
        self._look = None
        self._options = None
        self._rerender()
        self._relayout()

    def on_resize(self, event: Resize) -> None:
        """Render everything again at a new width."""
        if self._content_width() != self._width:
            self._rerender()
            self._relayout()

    def _rerender(self) -> None:
        self._blocks = deque((block, self._render_block(block)) for block, _ in self._blocks)
        self._open_lines = self._render_block(self._open) if self._open.strip() else []

    def _content_width(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _render_block(self, block: str) -> list[Strip]:
        """One block as lines at the current width, with a blank line after it."""
        self._width = self._content_width()
        if not self.is_mounted or self.scrollable_content_region.width <= 0:
            return []  # rendered on the first resize, when the width is known
        console, code = self._markdown_console()
        options = self._options
        if options is None or options.max_width != self._width:
            options = self._options = self.app.console.options.update_width(self._width)
        segments = console.render(RichMarkdown(block.strip(), code_theme=code), options)
        lines = [Strip(line) for line in Segment.split_lines(segments)]
        return [*lines, Strip.blank(self._width)]

    def _markdown_console(self) -> tuple[Console, str]:
        """A console with the theme's markdown styles, built once per theme."""
        variables = self.app.theme_variables
        if self._look is None or self._look[0] is not variables:
            # the app builds a new variables mapping whenever the theme's CSS is refreshed
            console = Console(theme=markdown_styles(variables), file=StringIO(),
                              force_terminal=True, color_system="truecolor", markup=False,
                              highlight=False, emoji=False, legacy_windows=False)
            self._look = (variables, console, code_theme(self.app.current_theme))
        return self._look[1], self._look[2]

    def show_top(self) -> None:
        """Stop following the end and show the first line."""
        self.follow = False
        self.scroll_to(y=0, animate=False, immediate=True)

    def _relayout(self) -> None:
        following = self.follow and self.scroll_y >= self.max_scroll_y
        self._lines = [line for _, lines in self._blocks for line in lines]
        self._lines.extend(self._open_lines)
        size = Size(self._width, len(self._lines))
        if size != self.virtual_size:
            # Only the scrollable content grew: the widget's own box is fixed by CSS, so
            # update the scrollbars here instead of asking the whole screen for a layout
            # pass (the `virtual_size` reactive would), five times a second per pane.
            self.set_reactive(MarkdownStream.virtual_size, size)
            self._scroll_update(size)
            if following:
                self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """The line at screen row `y`, scrolled."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        line = self._lines[index].crop_extend(scroll_x, scroll_x + width, self.rich_style)
        return line.apply_style(self.rich_style)
