"""Domain logic: plain async functions over a database session, free of Slack."""
