"""What leaves the ledger as files or text (导出): Excel workbooks, the dues sheet, explanations as people read them."""
