"""The topic browser: the tree of topics seen on the broker, with payload, rate and age."""

from __future__ import annotations

import time

from PySide6 import QtCore, QtWidgets

from viewer.live.catalog import TopicCatalog, twin_prefixes
from viewer.live.sparkplug import SPB_PREFIX

SPARKPLUG_ROOT = "Sparkplug metrics"  # groups, nodes, devices and metrics, decoded
from viewer.twin.loader import Twin


class TopicBrowser(QtWidgets.QWidget):
    """Topics under the twin's prefixes (or a filter the user types), as a tree.

    It subscribes only while it is shown: on a busy plant broker its filters drink far
    more than the twin binds.
    """

    COLUMNS = ["Topic", "Last payload", "Rate", "Age", "Messages"]

    def __init__(self, parent=None):
        super().__init__(parent)
        self.filter = QtWidgets.QLineEdit()
        self.filter.setPlaceholderText("Topic filter, e.g. plant/# (Enter)")
        self.filter.returnPressed.connect(self._on_filter)
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setHeaderLabels(self.COLUMNS)
        # Long topics and payloads are elided in the middle (whole in their tooltips); the
        # payload column goes last and takes what is left, so the view never scrolls
        # sideways and the topic names stay in sight. Columns can be resized.
        self.tree.setTextElideMode(QtCore.Qt.TextElideMode.ElideMiddle)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
        header.moveSection(1, len(self.COLUMNS) - 1)
        header.setStretchLastSection(True)
        self.tree.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for column, width in ((0, 200), (2, 55), (3, 55), (4, 70)):
            self.tree.setColumnWidth(column, width)
        self.unshown = QtWidgets.QLabel()  # what the catalog's limits leave out
        self.unshown.hide()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.unshown)
        self.catalog: TopicCatalog | None = None
        self._items: dict[str, QtWidgets.QTreeWidgetItem] = {}
        self._url = None
        self._twin: Twin | None = None
        self.active = False

    def watch(self, twin: Twin, url: str, password: str | None = None, filters=None) -> None:
        """Browse the broker at ``url`` under ``filters`` (default: the twin's prefixes)."""
        self.stop()
        self._twin, self._url, self._password = twin, url, password
        filters = filters or twin_prefixes(
            s.spec.topic or f"{SPB_PREFIX}/{s.spec.sparkplug.group}" for s in twin.signals.values()
            if s.spec.model is None)
        self.filter.setText(" ".join(filters))
        self.tree.clear()
        self._items.clear()
        self.unshown.hide()
        if self.active:
            self._start()

    def set_active(self, active: bool) -> None:
        """Subscribe while the browser is on screen (its dock tab is the current one)."""
        self.active = active
        if active:
            self._start()
        else:
            self.stop()

    def _start(self) -> None:
        filters = self.filter.text().split()
        if self._twin is not None and filters and self.catalog is None:
            # Its own client id and no session: never the twin's (the broker would drop one of the two).
            options = self._twin.broker.model_copy(update={"client_id": None, "session_expiry": None})
            self.catalog = TopicCatalog(self._url, filters, options, self._password)
            self.catalog.start()

    def _on_filter(self) -> None:
        if self._twin is not None:
            self.watch(self._twin, self._url, self._password, self.filter.text().split())

    def stop(self) -> None:
        """Stop browsing."""
        if self.catalog is not None:
            self.catalog.stop()
            self.catalog = None

    def refresh(self) -> None:
        """Show what was seen (called a few times a second)."""
        if self.catalog is None:
            return
        now = time.time()
        stats, metrics = self.catalog.snapshot()
        for topic, s in stats.items():
            item = self._items.get(topic) or self._item(topic)
            if topic.startswith(SPB_PREFIX):  # protobuf: the Sparkplug tree below shows its metrics
                text = f"Sparkplug payload, {len(s.payload)} bytes"
            else:
                text = s.payload.decode("utf-8", errors="replace") + (" (retained)" if s.retained else "")
            item.setText(1, text)
            item.setToolTip(1, text[:2000])
            item.setText(2, f"{s.rate(now):.1f}/s")
            item.setText(3, f"{now - s.last:.1f} s")
            item.setText(4, str(s.count))
        for (group, node, device, metric), (value, t) in metrics.items():
            path = "/".join(p for p in (SPARKPLUG_ROOT, group, node, device, metric) if p)
            item = self._items.get(path) or self._item(path)
            item.setText(1, "(not a number)" if value is None else f"{value:.6g}")
            item.setText(3, f"{now - t:.1f} s")
        limits = {"topics": self.catalog.max_topics, "Sparkplug metrics": self.catalog.max_metrics}
        lines = [f"… {n:,}{'+' if n >= limit else ''} more {what} not shown (limit {limit:,})"  # +: the count stops
                 for n, (what, limit) in zip(self.catalog.unshown(), limits.items()) if n]
        self.unshown.setText("\n".join(lines))
        self.unshown.setVisible(bool(lines))

    def _item(self, topic: str) -> QtWidgets.QTreeWidgetItem:
        """The tree item of ``topic``, creating its parents on the way."""
        parent, path = None, ""
        for level in topic.split("/"):
            path = f"{path}/{level}" if path else level
            item = self._items.get(path)
            if item is None:
                item = QtWidgets.QTreeWidgetItem(parent or self.tree, [level])
                item.setData(0, QtCore.Qt.ItemDataRole.UserRole, path)
                item.setToolTip(0, path)
                item.setExpanded(True)
                self._items[path] = item
            parent = item
        return parent

    def shown(self) -> dict[str, str]:
        """Topic -> last payload as shown (leaves and inner nodes that got messages)."""
        return {path: item.text(1) for path, item in self._items.items() if item.text(1)}
