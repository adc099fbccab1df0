"""OOM investigation: kill history, verdicts, live RSS trends and declared memory limits (JVM heaps)."""
