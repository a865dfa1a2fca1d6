"""Notifications for every feature: in-app centre, email, SMS and postal letters, sent after commit.

Kept apart from `sharing` (where DESIGN.md first placed it) because identity needs it from the
first day and every later app uses it; see docs/decisions/0002-notifications-app.md.
"""
