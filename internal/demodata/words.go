package demodata

// Vocabulary for generated names: about 75 × 75 × 12 company names, so a
// one-word search matches roughly 1 to 2 % of a tenant, and a word pair
// far fewer.
var (
	adjectives = []string{"Acme", "Blue", "Cedar", "Delta", "Eagle", "Fairway", "Golden", "Harbor", "Iron", "Jade",
		"Keystone", "Lakeside", "Maple", "Northern", "Oak", "Pacific", "Quartz", "Redwood", "Silver", "Summit",
		"Trinity", "Union", "Valley", "Western", "Yellowstone", "Zenith", "Atlas", "Beacon", "Crescent", "Diamond",
		"Evergreen", "Frontier", "Granite", "Highland", "Imperial", "Juniper", "Kingston", "Liberty", "Meridian", "Nova",
		"Orion", "Pioneer", "Quantum", "Riverside", "Sterling", "Titan", "Urban", "Vanguard", "Willow", "Apex",
		"Bright", "Coastal", "Dynamic", "Eastern", "First", "Global", "Horizon", "Integrity", "Jubilee", "Kinetic",
		"Lunar", "Metro", "National", "Olympic", "Prime", "Royal", "Southern", "Trusted", "United", "Vertex",
		"Wholesome", "Xenon", "Young", "Zephyr", "Central"}
	nouns = []string{"Supply", "Foods", "Furniture", "Logistics", "Medical", "Trading", "Textiles", "Hardware", "Bakery", "Dairy",
		"Farms", "Electric", "Plumbing", "Motors", "Printing", "Packaging", "Outfitters", "Pharmacy", "Coffee", "Brewing",
		"Seafood", "Produce", "Lumber", "Paper", "Chemicals", "Plastics", "Metals", "Glass", "Ceramics", "Optics",
		"Robotics", "Software", "Analytics", "Consulting", "Dental", "Veterinary", "Fitness", "Apparel", "Footwear", "Jewelry",
		"Toys", "Books", "Music", "Garden", "Pools", "Roofing", "Flooring", "Lighting", "Security", "Cleaning",
		"Catering", "Events", "Travel", "Marine", "Aviation", "Energy", "Solar", "Water", "Waste", "Recycling",
		"Storage", "Freight", "Couriers", "Imports", "Exports", "Spices", "Tea", "Wine", "Spirits", "Grocers",
		"Clinics", "Labs", "Studios", "Crafts", "Tools"}
	suffixes   = []string{"Inc", "LLC", "Ltd", "Co", "Group", "Partners", "Holdings", "Corp", "Traders", "Brothers", "Sons", "Collective"}
	firstNames = []string{"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
		"David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
		"Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Margaret", "Donald", "Sandra",
		"Steven", "Ashley", "Paul", "Kimberly", "Andrew", "Emily", "Joshua", "Donna", "Kenneth", "Michelle"}
	lastNames = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
		"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
		"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
		"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores"}
	cities = []struct{ name string }{{"Springfield"}, {"Riverton"}, {"Fairview"}, {"Franklin"}, {"Greenville"}, {"Bristol"},
		{"Clinton"}, {"Salem"}, {"Madison"}, {"Georgetown"}, {"Arlington"}, {"Ashland"}, {"Dover"}, {"Oxford"},
		{"Jackson"}, {"Burlington"}, {"Manchester"}, {"Milton"}, {"Newport"}, {"Auburn"}, {"Dayton"}, {"Lexington"},
		{"Milford"}, {"Winchester"}, {"Hudson"}, {"Kingston"}, {"Mount Vernon"}, {"Oakland"}, {"Centerville"}, {"Marion"}}
)
