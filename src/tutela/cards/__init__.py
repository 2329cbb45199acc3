"""AI Cards: evidence-backed model records, exports and the compliance crosswalk."""
