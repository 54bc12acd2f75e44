package settings

import (
	"sync"

	"github.com/google/uuid"
)

// envCache keeps each tenant's Env as last read, with the versions of the
// settings and the custom field definitions it was read at. A request
// whose authentication read the same versions (tenant.Principal's
// SettingsVersion and FieldsVersion, from app_authenticate in the
// request's own transaction) uses it instead of reading them again: a
// change commits a new version, so an entry is never used past one, in
// any process. An Env handed out is shared: callers read it, never change
// it.
type envCache struct {
	mu      sync.RWMutex
	entries map[uuid.UUID]envEntry
}

type envEntry struct {
	settingsVersion, fieldsVersion int64
	env                            Env
}

// maxCachedTenants bounds the cache; past it, it starts over (the tenants
// in use fill it again at one read each).
const maxCachedTenants = 10_000

func (c *envCache) get(tenantID uuid.UUID, settingsVersion, fieldsVersion int64) (Env, bool) {
	if settingsVersion == 0 {
		return Env{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[tenantID]
	if !ok || e.settingsVersion != settingsVersion || e.fieldsVersion != fieldsVersion {
		return Env{}, false
	}
	return e.env, true
}

func (c *envCache) put(tenantID uuid.UUID, settingsVersion, fieldsVersion int64, env Env) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCachedTenants {
		c.entries = make(map[uuid.UUID]envEntry)
	}
	c.entries[tenantID] = envEntry{settingsVersion: settingsVersion, fieldsVersion: fieldsVersion, env: env}
}
