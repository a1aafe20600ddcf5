"""The queue monitor's parts: queue cards, the job list, the job detail, triage and workers."""
