"""Reports of a round: statistics, the quarterly notice (通报), the ledger (整改台账), trends.

Entry points (web, CLI) call: ``build_notice``, ``render_markdown``/``render_html``,
``render_docx``, ``ledger_rows``/``ledger_csv``/``ledger_xlsx``, ``trend_rows``/``trend_svg``;
any other table goes out through ``tables.csv_bytes``/``tables.xlsx_bytes`` (formulas inert).
Many rounds at once (the national stage): ``build_notices`` and ``exports.ledger_downloads``
read the rounds' data together, one query per kind of data (``notice_reads``).
"""
