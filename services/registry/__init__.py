"""The registry: units, monitored targets, the problem-category catalogue and their listings."""
