package database

// MigrateAppFS applies the application migrations of another migration
// set (an earlier commit's), for the migration history test.
var MigrateAppFS = migrateApp

// CitusTable and ForeignKey build the inputs of OrderCitusTables.
type (
	CitusTable = citusTable
	ForeignKey = foreignKey
)

// NewCitusTable describes a public table for OrderCitusTables.
func NewCitusTable(name string, tenant bool) CitusTable {
	return citusTable{name: name, tenant: tenant}
}

// NewForeignKey is the foreign key name on child referencing parent.
func NewForeignKey(child, name, parent string) ForeignKey {
	return foreignKey{child: child, name: name, parent: parent}
}

// OrderCitusTables is orderCitusTables, for the ordering tests.
var OrderCitusTables = orderCitusTables
