"""Fund codes, services, VAT rates and reference rules: what a council is paid for."""
