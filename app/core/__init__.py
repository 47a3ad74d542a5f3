"""Cross-cutting services: identifiers, working-day calendar, audit log, masking, i18n."""
