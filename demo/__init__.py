"""Demo data, not code: the demo scenarios (``<name>.yaml``), sets of import tables that
``rectify demo`` loads through the ordinary import. Every office, unit and text of a
scenario lives here; the product reads none of them by name."""
