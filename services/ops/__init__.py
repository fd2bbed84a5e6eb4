"""Operating the installation: backup and restore, and the demo scenarios."""
