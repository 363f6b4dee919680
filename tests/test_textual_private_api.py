"""The private Textual APIs the UI relies on are still there, in the pinned release range.

Textual keeps no promise about underscore names, so each one used is listed here with the
place that needs it; an upgrade that moves one fails here, naming it, instead of as an odd
rendering bug. pyproject.toml pins the minor range these were checked against.
"""

from __future__ import annotations

import inspect
import io
import re
import tomllib
from pathlib import Path

import textual
from textual.screen import Screen
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import TextArea

ROOT = Path(__file__).resolve().parents[1]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_installed_textual_is_in_the_pinned_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    spec = next(r for r in project["dependencies"] if re.match(r"textual\b", r))
    bounds = re.findall(r"(>=|<)\s*([\d.]+)", spec)
    assert {op for op, _ in bounds} == {">=", "<"}, f"textual must be pinned to a range: {spec}"
    installed = _version(textual.__version__)
    for op, bound in bounds:
        ok = installed >= _version(bound) if op == ">=" else installed < _version(bound)
        assert ok, f"textual {textual.__version__} is outside the tested range {spec}"


def test_static_render_content_hook() -> None:
    # tui/ui/widgets/markdown_views.py: MarkdownBlockView overrides it to count renders.
    hook = getattr(Widget, "_render_content", None)
    assert callable(hook), "Textual moved Widget._render_content (MarkdownBlockView overrides it)"
    assert list(inspect.signature(hook).parameters) == ["self"], \
        "Widget._render_content changed its signature (MarkdownBlockView overrides it)"


def test_text_area_key_handler() -> None:
    # tui/ui/widgets/composer.py: Composer overrides it to take Enter and newline keys first.
    handler = getattr(TextArea, "_on_key", None)
    assert handler is not None and inspect.iscoroutinefunction(handler), \
        "Textual moved TextArea._on_key (Composer overrides it)"


def test_app_driver_for_raw_terminal_writes() -> None:
    # tui/ui/app.py: GptTuiApp.write_to_terminal sends wrapped OSC 52 through App._driver
    # (App.copy_to_clipboard only writes the plain sequence).
    from textual.app import App

    assert getattr(App(), "_driver", "missing") is None, \
        "Textual moved App._driver (GptTuiApp.write_to_terminal writes through it)"
    from textual.driver import Driver

    assert callable(getattr(Driver, "write", None)), "Textual's Driver lost write()"


def test_app_exception_hook() -> None:
    # tui/ui/app.py: GptTuiApp._handle_exception logs the error that ends the app, then
    # lets Textual end it (return code 1, the traceback printed on exit).
    from textual.app import App

    hook = getattr(App, "_handle_exception", None)
    assert callable(hook), "Textual moved App._handle_exception (GptTuiApp overrides it)"
    assert list(inspect.signature(hook).parameters) == ["self", "error"], \
        "App._handle_exception changed its signature (GptTuiApp overrides it)"
    assert "_return_code = 1" in inspect.getsource(hook), \
        "App._handle_exception no longer sets the return code run_app reports"


def test_linux_driver_writer_thread_name() -> None:
    # tui/ui/safe_writer.py: QuietLinuxDriver.start_application_mode has LinuxDriver build a
    # SafeWriterThread through the name linux_driver imported, and that thread uses
    # WriterThread's queue and file.
    from textual.drivers import linux_driver
    from textual.drivers._writer_thread import WriterThread

    assert linux_driver.WriterThread is WriterThread, \
        "linux_driver no longer makes its writer thread through WriterThread"
    assert "WriterThread(self._file)" in inspect.getsource(
        linux_driver.LinuxDriver.start_application_mode)
    thread = WriterThread(io.StringIO())
    assert hasattr(thread, "_queue") and hasattr(thread, "_file")


def test_key_list_normalizer() -> None:
    # tui/ui/keymap.py: keys from the [keymap] table are compared in Textual's own spelling.
    from textual.keys import _normalize_key_list

    assert _normalize_key_list("?,ctrl+k, f7") == "question_mark,ctrl+k,f7"


def test_what_mouse_selection_reads() -> None:
    # tui/ui/widgets/markdown_views.py: selected_text and RowOffsets read a widget's visual
    # through Widget._render; markdown_selection.content_rows tells Content's text segments
    # (offset meta) from its padding (none) by Rich's Style._meta.
    assert callable(getattr(Widget, "_render", None)), \
        "Textual moved Widget._render (mouse selection reads the visual through it)"
    from rich.style import Style as RichStyle

    assert RichStyle()._meta is None and RichStyle.from_meta({"a": 1})._meta is not None, \
        "Rich moved Style._meta (content_rows tells text from padding by it)"
    # RowOffsets adds offsets only to rows read back one at a time: the compositor must find
    # the character under the pointer with Widget.render_line, and paint with render_lines.
    from textual._compositor import Compositor

    source = inspect.getsource(Compositor.get_widget_and_offset_at)
    assert "render_line(" in source and "render_lines(" not in source, \
        "Textual's compositor no longer reads one row with render_line to find a character"


def test_size_updated_and_the_virtual_size_reactive() -> None:
    # tui/ui/widgets/one_layout.py: OneLayoutPass overrides Widget._size_updated and passes
    # layout=False, which only matters while virtual_size is a layout reactive.
    hook = getattr(Widget, "_size_updated", None)
    assert callable(hook), "Textual moved Widget._size_updated (OneLayoutPass overrides it)"
    assert list(inspect.signature(hook).parameters) == [
        "self", "size", "virtual_size", "container_size", "layout"], \
        "Widget._size_updated changed its signature (OneLayoutPass overrides it)"
    reactive = Widget.__dict__["virtual_size"]
    assert getattr(reactive, "_layout", None) is True, \
        "Widget.virtual_size is no longer a layout reactive (OneLayoutPass may be moot)"


def test_check_refresh_passes_a_widgets_requests_to_its_screen() -> None:
    # tui/ui/widgets/stream_pace.py: pass_on_requests calls Widget._check_refresh at once,
    # which Textual otherwise calls when the widget goes idle (Widget._on_idle).
    hook = getattr(Widget, "_check_refresh", None)
    assert callable(hook), "Textual moved Widget._check_refresh (pass_on_requests calls it)"
    assert list(inspect.signature(hook).parameters) == ["self"]
    assert "_check_refresh" in inspect.getsource(Widget._on_idle)
    source = inspect.getsource(hook)
    assert "_layout_required" in source and "messages.Layout" in source, \
        "Widget._check_refresh no longer posts the layout request to the screen"


def test_repaint_requests_a_compositor_can_take() -> None:
    # tui/ui/covered_compositor.py: CoveredCompositor.render_update paints the widgets whose
    # _repaint_required is set (and not _layout_required) and clears the flag, so that
    # Widget._check_refresh sends no Update message for them.
    from textual._compositor import Compositor

    source = inspect.getsource(Widget._check_refresh)
    assert "if self._repaint_required:" in source and "messages.Update(self)" in source, \
        "Widget._check_refresh no longer sends the repaint request as an Update message"
    assert "self._repaint_required = True" in inspect.getsource(Widget.refresh)
    widget = Widget()
    assert widget._repaint_required is False and widget._layout_required is False
    assert list(inspect.signature(Compositor.render_update).parameters) == [
        "self", "full", "screen_stack", "simplify"], \
        "Compositor.render_update changed its signature (CoveredCompositor overrides it)"
    assert "_exchange_repaint_regions" in inspect.getsource(Compositor.update_widgets)


def test_a_widgets_measured_box_model_and_arrangement_caches() -> None:
    # tui/ui/widgets/markdown_views.py (MarkdownBlockView.fill) clears _box_model_cache and
    # stream_runway.py calls _clear_arrangement_cache when the tail's least height changes.
    widget = Widget()
    assert hasattr(widget._box_model_cache, "clear")
    assert "_box_model_cache" in inspect.getsource(Widget._get_box_model)
    assert callable(getattr(Widget, "_clear_arrangement_cache", None))
    assert "_arrangement_cache" in inspect.getsource(Widget.arrange)


def test_render_content_styles_links_into_the_render_cache() -> None:
    # tui/ui/widgets/link_rows.py: draw_with_links_styled turns auto_links off around
    # Widget._render_content, then styles links in _render_cache.lines as Visual.to_strips
    # would have (skipped while the screen is _selecting).
    source = inspect.getsource(Widget._render_content)
    assert "_render_cache = _RenderCache(" in source, \
        "Widget._render_content no longer keeps its lines in _render_cache"
    to_strips = inspect.getsource(Visual.to_strips)
    assert "widget.auto_links" in to_strips and "_apply_link_style" in to_strips \
        and "_selecting" in to_strips, "Visual.to_strips styles links another way"
    assert "_selecting" in inspect.getsource(Screen), "Screen._selecting is gone"


def test_widget_layout_cache_holds_the_measured_visual() -> None:
    # tui/ui/widgets/markdown_views.py: RowOffsets.refresh clears it for a widget whose
    # content changes while it mounts (Textual's refresh leaves it until mounted).
    widget = Widget()
    assert isinstance(getattr(widget, "_layout_cache", None), dict), \
        "Textual moved Widget._layout_cache (RowOffsets.refresh clears it)"
    assert "_layout_cache" in inspect.getsource(Widget._render), \
        "Widget._render no longer caches its visual in _layout_cache"


def test_linux_driver_input_thread_parts() -> None:
    # tui/ui/quiet_driver.py: QuietLinuxDriver replaces the input thread's loop, wakes it
    # through exit_event (which disable_input sets, then joins the thread) and waits for a
    # lone Esc until the parser's own deadline.
    import sys

    if sys.platform == "win32":
        return
    from textual import _loop, _parser, _time
    from textual._xterm_parser import XTermParser
    from textual.drivers.linux_driver import LinuxDriver

    assert callable(getattr(LinuxDriver, "run_input_thread", None))
    disable = inspect.getsource(LinuxDriver.disable_input)
    assert "self.exit_event.set()" in disable and "_key_thread.join()" in disable, \
        "LinuxDriver.disable_input no longer stops the input thread through exit_event"
    from textual.driver import Driver

    init = inspect.getsource(LinuxDriver.__init__)
    assert "self.exit_event = " in init and "self.fileno = " in init
    assert "self._debug = " in inspect.getsource(Driver.__init__)
    assert "_timeout_time" in inspect.getsource(XTermParser.__mro__[1].tick), \
        "Textual's parser moved _timeout_time (QuietLinuxDriver waits until it)"
    assert XTermParser()._timeout_time is None
    assert callable(_loop.loop_last) and callable(_time.get_time)
    assert issubclass(_parser.ParseError, Exception)


def test_compositor_render_chops_parts() -> None:
    # tui/ui/covered_compositor.py: CoveredCompositor overrides Compositor._render_chops
    # (screens set it as Screen._compositor) and reads its cuts and visible_widgets.
    from textual._compositor import Compositor
    from textual.screen import Screen

    assert list(inspect.signature(Compositor._render_chops).parameters) == \
        ["self", "crop", "is_rendered_line"]
    chops = inspect.getsource(Compositor._render_chops)
    assert "strip.divide(" in chops and "get_chops_line(cut) is None" in chops, \
        "Compositor._render_chops fills its pieces another way: check CoveredCompositor"
    assert "reverse=True" in inspect.getsource(Compositor.visible_widgets.fget), \
        "visible_widgets is no longer front to back"
    assert isinstance(Compositor.cuts, property)
    assert "self._compositor = Compositor()" in inspect.getsource(Screen.__init__)
    # CoveredCompositor.reflow marks the map it made as current: reflow makes it in full
    # and full_map would make the same one again while the flag is set.
    reflow = inspect.getsource(Compositor.reflow)
    assert "self._arrange_root(parent, size, visible_only=False)" in reflow
    assert "self._full_map = map" in reflow
    assert "if self._full_map_invalidated:" in inspect.getsource(Compositor.full_map.fget)


def test_a_widgets_drawn_lines_and_how_they_are_dropped() -> None:
    # tui/ui/widgets/appended_rows.py: KeepsRowsAbove overrides Widget._set_dirty and keeps
    # entries of the styles cache's _cache (and takes them out of _dirty_lines) when the
    # widget only grew at its end; Widget._size_updated calls _set_dirty on a new size.
    from textual._styles_cache import StylesCache

    hook = getattr(Widget, "_set_dirty", None)
    assert callable(hook), "Textual moved Widget._set_dirty (KeepsRowsAbove overrides it)"
    assert list(inspect.signature(hook).parameters) == ["self", "regions"]
    assert "self._set_dirty()" in inspect.getsource(Widget._size_updated)
    cache = Widget()._styles_cache
    assert isinstance(cache, StylesCache)
    assert isinstance(cache._cache, dict) and isinstance(cache._dirty_lines, set)
    render = inspect.getsource(StylesCache.render)
    assert "is_dirty(y) or y not in self._cache" in render, \
        "StylesCache.render no longer draws only the lines missing from _cache or dirty"


def test_how_a_widget_makes_its_vertical_scrollbar() -> None:
    # tui/ui/widgets/chat_pane.py: ChatPane.vertical_scrollbar makes a RowKindsScrollBar the
    # way Widget.vertical_scrollbar makes a ScrollBar (_vertical_scrollbar, App._start_widget).
    from textual.app import App
    from textual.scrollbar import ScrollBar, ScrollBarRender

    source = inspect.getsource(Widget.vertical_scrollbar.fget)
    assert "self._vertical_scrollbar" in source and "self.app._start_widget(" in source
    assert Widget()._vertical_scrollbar is None
    assert callable(getattr(App, "_start_widget", None))
    # row_kinds_scrollbar.py works a row out as ScrollBarRender draws the bar.
    assert "self.render_bar(" in inspect.getsource(ScrollBarRender.__rich_console__)
    assert ScrollBar.renderer is ScrollBarRender


def test_the_screens_tick() -> None:
    # tui/ui/widgets/stream_pace.py: paint_now calls Screen._on_timer_update (what the
    # screen's update timer calls) to lay out and paint a reply's end at once.
    hook = getattr(Screen, "_on_timer_update", None)
    assert callable(hook), "Textual moved Screen._on_timer_update (paint_now calls it)"
    assert list(inspect.signature(hook).parameters) == ["self"]
    source = inspect.getsource(hook)
    assert "_refresh_layout" in source and "_compositor_refresh" in source \
        and "_batch_count" in source, "Screen._on_timer_update no longer lays out and paints"
    assert "self._on_timer_update" in inspect.getsource(Screen._update_timer.fget)


def test_what_a_containers_arrangement_is_kept_by() -> None:
    # tui/ui/widgets/width_arrangement.py: ArrangedByWidth keeps an arrangement by the width
    # and Widget._nodes._updates, as Widget.arrange keys its own cache by the whole size, and
    # drops it in _clear_arrangement_cache, which Textual calls on a child's layout request.
    source = inspect.getsource(Widget.arrange)
    assert "self._nodes._updates" in source and "_arrangement_cache" in source
    assert isinstance(Widget()._nodes._updates, int)
    assert "_clear_arrangement_cache()" in inspect.getsource(Widget._check_refresh)
    from textual.layout import Layout

    assert "widget.arrange(" in inspect.getsource(Layout.get_content_height), \
        "Textual no longer measures a container's height by arranging it"
