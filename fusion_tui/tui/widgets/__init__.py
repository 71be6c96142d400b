"""Dashboard widgets. Each one that shows events carries the `event-sink` class and handles
`EventBatch` itself."""

from fusion_tui.tui.widgets.request_feed import FeedRow, RequestFeed
from fusion_tui.tui.widgets.status_bar import StatusBar

EVENT_SINK = "event-sink"
"""CSS class of widgets that receive `EventBatch` messages from the bridge."""

__all__ = ["EVENT_SINK", "FeedRow", "RequestFeed", "StatusBar"]
