package jobs

// Views exposes views to the tests: the job views of rows read earlier.
var Views = (*Service).views
