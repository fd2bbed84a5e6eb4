"""Use cases, storage and configuration: the service layer every entry point calls."""
