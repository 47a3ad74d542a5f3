"""Demo data for a first look and for manual testing: the Dongsheng district water bureau."""
