"""Services: load a room, apply a ritual command, persist, return what to broadcast."""
