"""Alerting: the alert model and wording, exactly-once emission, sinks and their durable deliveries."""
