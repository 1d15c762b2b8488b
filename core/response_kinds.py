"""The response library's statuses and channels: storage checks rows against them, responses works with them."""

STATUSES = ("draft", "approved", "retired")
CHANNELS = ("x", "bluesky", "mastodon", "sms", "email", "web")
