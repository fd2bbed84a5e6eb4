"""Demo scenarios, as YAML read through the ordinary import (``rectify demo``)."""
