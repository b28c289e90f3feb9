"""Contact-reason discovery: topics over customer requests (see discover.py, requests.py)."""
