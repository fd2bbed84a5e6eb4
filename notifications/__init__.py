"""Email: pure builders (templates → EmailMessage), the delivery pool and the SMTP sender.

Nothing here imports ``services``: the service layer writes outbox rows and calls in.
"""
