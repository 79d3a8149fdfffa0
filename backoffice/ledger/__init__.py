"""The double-entry record of every movement of money: accounts, entries, postings, journals."""
