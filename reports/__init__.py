"""Report definitions: parameters, queries, columns and charts, with CSV, XLSX and PDF output."""
