"""Compare two revisions of the contract document and say what each change breaks, for whom."""
