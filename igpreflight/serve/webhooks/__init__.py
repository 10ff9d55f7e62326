"""Signed webhooks (Standard Webhooks) when a post is published, failed or held.

The dispatcher watches the publishing database, not the code that publishes, so an
event fires whoever enqueued or ran the post (`serve`, `publish --enqueue`, a
`worker`). Each event is written once per endpoint to an outbox table in the same
database, then delivered, retried and leased from there: durable across restarts,
and with several service processes on one database each delivery is made by one.

    config.py      the webhooks file: endpoints, secrets, events, accounts, schedule
    events.py      an ended post attempt -> an event (type, stable id, JSON body)
    outbox.py      the outbox, endpoint and cursor tables (SQLAlchemy Core)
    deliver.py     one signed POST through the SSRF guard, and what its answer means
    dispatcher.py  the background thread: scan the database, deliver what is due
"""
