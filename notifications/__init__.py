"""Email: pure builders (templates → MIME messages), the delivery pool and the SMTP sender.

Nothing here imports ``services``: the service layer writes outbox rows and calls in.
"""
