"""MarkdownStream: blocks split at blank lines outside fences, rendered once, bounded, the
view follows the end unless scrolled up, and the colours are the theme's."""

from __future__ import annotations

from rich.style import Style
from textual.app import App, ComposeResult
from textual.color import Color

from fusion_tui.tui.theming import load_themes
from fusion_tui.tui.widgets.markdown_stream import MarkdownStream, split_finished


def test_blocks_finish_at_blank_lines_outside_fences() -> None:
    blocks, rest = split_finished("# Plan\n\n- read\n- write\n\nhalf a sen")
    assert blocks == ["# Plan\n", "- read\n- write\n"]
    assert rest == "half a sen"
    fenced = "```py\nx = 1\n\ny = 2\n```\n\nafter\n"
    blocks, rest = split_finished(fenced)
    assert blocks == ["```py\nx = 1\n\ny = 2\n```\n"]  # the blank line inside stays inside
    assert rest == "after\n"
    assert split_finished("no newline yet") == ([], "no newline yet")


class StreamApp(App[None]):
    CSS = "MarkdownStream { height: 8; width: 40; }"

    def compose(self) -> ComposeResult:
        yield MarkdownStream(max_chars=300)


async def test_renders_markdown_follows_the_end_and_stays_bounded() -> None:
    app = StreamApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(MarkdownStream)
        view.append("# Heading\n\n- **bold** item\n")
        await pilot.pause()
        lines = [view.render_line(y).text for y in range(8)]
        assert any("Heading" in line for line in lines)
        assert any("• bold item" in line for line in lines)  # rendered, not raw markdown
        assert "**" not in "".join(lines)
        for n in range(40):
            view.append(f"paragraph {n} with some words in it\n\n")
        await pilot.pause()
        assert len(view.source) <= 300 + 60  # old blocks dropped off the top
        assert "paragraph 39" in view.source and "Heading" not in view.source
        assert view.max_scroll_y > 0 and view.scroll_y == view.max_scroll_y
        assert "paragraph 39" in "".join(view.render_line(y).text for y in range(8))
        view.scroll_to(y=0, animate=False, immediate=True)
        view.append("one more\n\n")
        await pilot.pause()
        assert view.scroll_y == 0  # the reader scrolled up: appending does not pull them back


async def test_update_replaces_and_a_new_width_renders_again() -> None:
    app = StreamApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(MarkdownStream)
        view.append("old text\n\n")
        view.update("a fairly long sentence that has to wrap when the pane is narrow\n\n")
        await pilot.pause()
        assert "old text" not in view.source
        wide = view.virtual_size.height
        view.styles.width = 20
        await pilot.pause()
        assert view.virtual_size.height > wide  # wrapped again at the new width


class ThemedStreamApp(StreamApp):
    def __init__(self, theme: str) -> None:
        super().__init__()
        for shipped in load_themes():
            self.register_theme(shipped)
        self.theme = theme


def styled(view: MarkdownStream, needle: str) -> Style:
    """The style of the first rendered segment whose text contains `needle`."""
    for y in range(view.size.height):
        for segment in view.render_line(y):
            if needle in segment.text and segment.style is not None:
                return segment.style
    raise AssertionError(f"{needle!r} is not on screen")


def theme_colour(app: App[None], variable: str) -> tuple[int, int, int]:
    return Color.parse(app.theme_variables[variable]).rich_color.get_truecolor()


async def test_markdown_takes_its_colours_from_the_theme_and_follows_a_change() -> None:
    app = ThemedStreamApp("fusion-light")
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(MarkdownStream)
        view.append("call `grep_it` now\n\n```python\nvalue = 1\n```\n\n")
        await pilot.pause()
        code = styled(view, "grep_it")
        assert code.color is not None and code.bgcolor is not None
        assert code.color.get_truecolor() == theme_colour(app, "text-accent")
        assert code.bgcolor.get_truecolor() == theme_colour(app, "panel")
        assert code.color.name != "cyan" and code.bgcolor.name != "black"  # Rich's own
        block = styled(view, "value")
        assert block.bgcolor is not None  # the light theme's Pygments style, not monokai
        assert block.bgcolor.get_truecolor() == (0xF8, 0xF8, 0xF8)

        app.theme = "fusion-dark"
        await pilot.pause()
        await pilot.pause()
        code = styled(view, "grep_it")
        assert code.color is not None and code.bgcolor is not None
        assert code.color.get_truecolor() == theme_colour(app, "text-accent")
        assert code.bgcolor.get_truecolor() == theme_colour(app, "panel")
        block = styled(view, "value")
        assert block.bgcolor is not None and block.bgcolor.get_truecolor() == (0x28, 0x2C, 0x34)
