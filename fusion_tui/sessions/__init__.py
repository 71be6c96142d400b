"""Session recordings: the recorder writes them, the store lists and opens them."""

from fusion_tui.sessions.recorder import SessionRecorder, session_file_name

__all__ = ["SessionRecorder", "session_file_name"]
