"""The main window's menus and toolbars, and the actions in them."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtGui

from viewer.qt.recording import RecordControl, open_recording_dialog
from viewer.qt.settings import flag

VIEW_KEYS = {"iso": "0", "front": "1", "top": "7", "side": "3"}  # numeric keypad habits
#: View > Layers: setting name -> menu text, shortcut. "condition" is the condition view.
LAYERS = {"colours": ("Data &colours", "Shift+C"), "labels": ("&Labels", "Shift+L"),
          "badges": ("Alarm &badges", "Shift+B"), "legends": ("Le&gends", "Shift+G"),
          "condition": ("Co&ndition view", "Shift+N")}


def build_menus(window, samples: dict[str, Path]) -> None:
    """File and View menus, the View and Layers toolbars; sets ``window.recording`` and
    ``window.layer_actions``, and ``window.view_menu`` for panels to add to."""
    bar = window.addToolBar("View")
    bar.setObjectName("view-toolbar")
    file_menu = window.menuBar().addMenu("&File")
    add_action(window, file_menu, "&Open twin or mesh…", window.open_dialog, QtGui.QKeySequence.StandardKey.Open)
    add_action(window, file_menu, "Open &recording…", lambda: open_recording_dialog(window))
    window.recording = RecordControl(window, window)  # File > Record and the toolbar's button
    file_menu.addAction(window.recording.action)
    bar.addAction(window.recording.action)
    if samples:
        sample_menu = file_menu.addMenu("Open &sample")
        for name, path in samples.items():
            add_action(window, sample_menu, name, lambda _checked=False, p=path: window.open_path(p))
    add_action(window, file_menu, "Save &screenshot…", window.screenshot_dialog, "Ctrl+P", bar)
    file_menu.addSeparator()
    add_action(window, file_menu, "&Quit", window.close, QtGui.QKeySequence.StandardKey.Quit)
    view_menu = window.menuBar().addMenu("&View")
    add_action(window, view_menu, "&Reset view", window.reset_view, "R", bar)
    for name, key in VIEW_KEYS.items():
        add_action(window, view_menu, name.title(), lambda _checked=False, n=name: window.standard_view(n), key, bar)
    add_action(window, view_menu, "&Fit to part", window.fit_selected, "F", bar)
    view_menu.addSeparator()
    layers_menu = view_menu.addMenu("&Layers")
    layers_bar = window.addToolBar("Layers")
    layers_bar.setObjectName("layers-toolbar")
    window.layer_actions: dict[str, QtGui.QAction] = {}
    for name, (text, key) in LAYERS.items():
        action = add_action(window, layers_menu, text, lambda on, n=name: window.set_layer(n, on), key, layers_bar)
        action.setCheckable(True)
        action.setChecked(flag(window.settings, f"layers/{name}", True))
        action.setToolTip(f"Show or hide {text.replace('&', '').lower()} ({key})")
        window.layer_actions[name] = action
    view_menu.addSeparator()
    add_action(window, view_menu, "&Alarm list", window.show_alarm_list, "Ctrl+L")
    add_action(window, view_menu, "&Trends", lambda: (window.trends_dock.show(), window.trends_dock.raise_()), "Ctrl+T")
    window.view_menu = view_menu


def add_action(window, menu, text, slot, shortcut=None, toolbar=None) -> QtGui.QAction:
    """An action of ``window`` in ``menu`` (and on ``toolbar``) that calls ``slot``."""
    action = QtGui.QAction(text, window)
    action.triggered.connect(slot)
    if shortcut is not None:
        action.setShortcut(shortcut)
    menu.addAction(action)
    if toolbar is not None:
        toolbar.addAction(action)
    return action
