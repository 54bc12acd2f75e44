package demodata

// SearchTerms are realistic searches over the vocabulary Generate draws from: rare
// pairs and e-mail fragments (passed to the list as ids) and common words,
// a last name and a city (more matches than that: filtered while walking
// the balance index).
var SearchTerms = []string{"maple foods", "harbor", "smith", "springfield", "jennifer.garcia", "c00012", "bakery co", "zephyr tools"}
