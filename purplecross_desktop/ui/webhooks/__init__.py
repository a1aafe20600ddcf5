"""Settings → Integrations → Webhooks: endpoints, the signing secret, test events, the log."""
