"""The headless daemon: long-running workers that share one stop signal."""
