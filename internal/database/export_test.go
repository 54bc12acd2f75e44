package database

// MigrateAppFS applies the application migrations of another migration
// set (an earlier commit's), for the migration history test.
var MigrateAppFS = migrateApp
