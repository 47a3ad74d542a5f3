"""Item list, inspector roster, target directory, conflicts of interest, imports (R4, R6, R8)."""
