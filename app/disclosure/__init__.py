"""Anonymous public pages, portal exports, joint-office CSV filings (R2.3, R9.2, R11.1)."""
