"""The topic browser on a busy broker: it says what its catalog's limits leave out."""

import viewer.live.catalog
from tests.conftest import wait_until
from viewer.qt.topics import TopicBrowser
from viewer.twin.loader import load_twin


def test_the_topic_browser_says_how_many_topics_it_does_not_show(qtbot, rig_twin, mosquitto, publisher, monkeypatch):
    monkeypatch.setattr(viewer.live.catalog, "MAX_TOPICS", 3)
    browser = TopicBrowser()
    qtbot.addWidget(browser)
    browser.watch(load_twin(rig_twin), mosquitto, filters=["t/#"])
    browser.set_active(True)
    catalog = browser.catalog
    try:
        wait_until(lambda: catalog.status.state == "live")
        wait_until(lambda: "t/probe" in catalog.snapshot()[0], step=lambda: publisher.send("t/probe", b""))
        browser.refresh()
        assert browser.unshown.isHidden()
        for i in range(4):
            publisher.send(f"t/{i}", b"x")

        def unshown():
            browser.refresh()
            return browser.unshown.text()

        qtbot.waitUntil(lambda: unshown() == "… 2 more topics not shown (limit 3)", timeout=5000)
        assert not browser.unshown.isHidden()
        assert set(browser._items) == {"t", "t/probe", "t/0", "t/1"}  # the tree stays bounded too
        publisher.send("t/4", b"x")
        qtbot.waitUntil(lambda: unshown() == "… 3+ more topics not shown (limit 3)", timeout=5000)
    finally:
        browser.stop()
