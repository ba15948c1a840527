"""Pages of the core layer."""
