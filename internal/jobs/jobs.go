// Package jobs is the tenant-facing side of background work. A tenant job
// is a River job plus a row in the tenant's jobs table, inserted together
// in the transaction of the request that asked for it. River's row says
// when to run; the tenant's row, under row-level security, says what was
// asked, how far it got, and how it ended.
//
// Workers drive a tenant job with Run: every step runs in a transaction
// scoped to the acting user (as a request of theirs would), with the job's
// row locked, and saves its progress and resume point in that same
// transaction. A job killed mid-step loses only that step's uncommitted
// work and resumes after the last committed one.
package jobs

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/tenant"
)

// Job states, as the API shows them.
const (
	StateQueued    = "queued"
	StateRunning   = "running"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// States lists the states, for validating filters.
var States = []string{StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled}

// Terminal reports whether a job in this state is over.
func Terminal(state string) bool {
	return state == StateSucceeded || state == StateFailed || state == StateCancelled
}

// Queues. Each kind of work has its own, so that a long bulk update never
// holds up the hourly maintenance, nor an import an SMS.
const (
	// QueueMaintenance runs periodic system jobs.
	QueueMaintenance = river.QueueDefault
	// QueueBulk runs bulk updates and merges.
	QueueBulk = "bulk"
)

// AttemptTimeout is the default River timeout of one attempt of a tenant
// job. An attempt works for a third of it (Runner.Slice), then hands the
// job back to the queue (river.JobSnooze(0)) to continue in a fresh
// attempt. Keeping attempts short lets the rescuer retry a killed worker's
// job within about a minute without ever mistaking a healthy long job for
// a stuck one.
const AttemptTimeout = time.Minute

// Ref identifies a tenant job. Every tenant job's args embed it, so the
// worker knows whose job it runs and as whom; args carry ids only (River's
// UI shows them to operators).
type Ref struct {
	TenantID uuid.UUID `json:"tenant_id"`
	UserID   uuid.UUID `json:"user_id"`
	JobID    uuid.UUID `json:"job_id"`
}

// JobRef returns the reference; it makes Ref satisfy Args when embedded.
func (r Ref) JobRef() Ref { return r }

// Args are the args of a tenant job. Permission is part of a kind's
// contract: the permission the acting user must hold for the job to run
// (Run checks it with the user's current role before every step) and for
// anyone to cancel it (Service.Cancel, through Kinds). An args type that
// does not declare it is not a tenant job and cannot be run or enqueued as
// one.
type Args interface {
	river.JobArgs
	JobRef() Ref
	Permission() string
}

// SystemArgs are the args of a tenant job kind that may also run with no
// acting user: work the tenant's own settings ask for on a schedule (the
// daily dormant sweep). Such a job's Ref has UserID uuid.Nil and created_by
// NULL; it acts as SystemPrincipal, which holds only the kind's permission
// and sees every customer of the job's tenant, and nothing of any other
// (its transactions are scoped to Ref.TenantID like every tenant job's).
// Its audit events have no actor. Only kinds that implement SystemJob can
// run so: a Ref with no user on any other kind fails as user_inactive.
type SystemArgs interface {
	Args
	SystemJob()
}

// RoleSystem is the role of SystemPrincipal.
const RoleSystem = "system"

// SystemPrincipal is the actor of a system job of a tenant: no user,
// visibility all, only the permission of the job's kind.
func SystemPrincipal(tenantID uuid.UUID, permission string) *tenant.Principal {
	return &tenant.Principal{TenantID: tenantID, Role: RoleSystem, Permissions: []string{permission}, Visibility: tenant.VisibilityAll}
}

// Kinds maps each tenant job kind to the permission it needs: the registry
// through which a job row, which knows only its kind, finds its
// permission. Service.Enqueue refuses a kind missing from it, so a new
// kind cannot be started before it is registered.
type Kinds map[string]string

// KindsOf registers the kinds of args (zero values do).
func KindsOf(args ...Args) Kinds {
	k := make(Kinds, len(args))
	for _, a := range args {
		k[a.Kind()] = a.Permission()
	}
	return k
}

// Error is an entry of a job's error list. Code, when set, is a stable
// machine reason (CodePermissionRevoked, ...); Message is for people.
type Error struct {
	At      time.Time `json:"at"`
	Attempt int       `json:"attempt,omitempty"`
	Code    string    `json:"code,omitempty"`
	Message string    `json:"message"`
}

// Failure codes: the stable reasons a job failed, shown as the code of its
// last error.
const (
	// CodePermissionRevoked: the acting user no longer holds a permission
	// the job needs (demoted, role changed); the job stopped before its
	// next step and changed nothing further.
	CodePermissionRevoked = "permission_revoked"
	// CodeUserInactive: the acting user was deactivated or deleted.
	CodeUserInactive = "user_inactive"
	// CodeTenantSuspended: the tenant's account is suspended.
	CodeTenantSuspended = "tenant_suspended"
)

// Failure is an error that retrying cannot fix (the acting user was
// deactivated, a value set in the job no longer exists): the job fails at
// once, with Message shown to the tenant and Code, when set, as its
// machine reason.
type Failure struct {
	Code    string
	Message string
}

func (f *Failure) Error() string { return f.Message }

// Fail returns a Failure.
func Fail(message string) error { return &Failure{Message: message} }

// FailCode returns a Failure with a machine reason.
func FailCode(code, message string) error { return &Failure{Code: code, Message: message} }

// PermissionRevoked is the failure of a job whose acting user no longer
// holds permission.
func PermissionRevoked(permission string) error {
	return FailCode(CodePermissionRevoked, "the user who started this job no longer holds the permission "+permission)
}

// IsFailure reports whether err is a Failure, and returns it.
func IsFailure(err error) (*Failure, bool) {
	var f *Failure
	ok := errors.As(err, &f)
	return f, ok
}

// Progress is what a step reads and advances: the job's parameters, how
// many items it has processed, where the next step starts, and the result
// so far.
type Progress struct {
	ID        uuid.UUID
	Kind      string
	Params    json.RawMessage
	Processed int64
	Total     *int64
	Cursor    *string
	// Result is the job's result so far; any JSON-encodable value. Steps
	// decode it with DecodeResult.
	Result any
	raw    json.RawMessage
}

// DecodeResult decodes the result stored by the previous step into v; v is
// left as it is when there is none yet.
func (p *Progress) DecodeResult(v any) error {
	if len(p.raw) == 0 || string(p.raw) == "null" {
		return nil
	}
	return json.Unmarshal(p.raw, v)
}

// PurgeArgs is the daily job that deletes tenant jobs finished long ago.
type PurgeArgs struct{}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "jobs_purge" }

// InsertOpts makes the job unique per day.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	// Periodic: a few attempts, then the next period's run takes over.
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByPeriod: 24 * time.Hour}}
}
