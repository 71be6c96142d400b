"""Streamed markdown in one widget: each finished block is rendered once (Rich's markdown, at
the widget's width) and kept as lines; only the open block is rendered again as text arrives.

Textual's own `Markdown` widget mounts a widget per block (a bullet list is a dozen), and a
screen's layout pass is linear in its widgets: four advisor panes and a briefing streaming at
once reached 300+ widgets and layout passes of ~80 ms on the shared event loop, which the
proxy felt. This widget is one node in the tree whatever it shows, built on Textual's line
API (`ScrollView.render_line`), the way `RichLog` is.
"""

from __future__ import annotations

from collections import deque

from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

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
        console = self.app.console
        options = console.options.update_width(self._width)
        segments = console.render(RichMarkdown(block.strip()), options)
        lines = [Strip(line) for line in Segment.split_lines(segments)]
        return [*lines, Strip.blank(self._width)]

    def _relayout(self) -> None:
        following = self.scroll_y >= self.max_scroll_y
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
