"""Documents a customer receives: the snapshot an invoice or credit note shows
(`invoice_data`) and its PDF (`invoice_pdf`); docs/documents.md."""
