"""Email notifications (issue 18): a consumer group of the analytics service (which already
reads every topic) turns events into pending mails in an outbox, in the inbox's
transaction; a sender loop delivers them to an SMTP server with back-off."""
