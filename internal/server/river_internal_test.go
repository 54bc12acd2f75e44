package server

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRescueAfter: River's rescuer never takes a job back while a live
// attempt may still be in an outside call: the configured delay, or the
// attempt's timeout, the call's and a second, whichever is longer.
func TestRescueAfter(t *testing.T) {
	for _, tc := range []struct {
		rescue, attempt, call, want time.Duration
	}{
		{time.Minute, 30 * time.Second, 10 * time.Second, time.Minute},
		{4 * time.Second, 4 * time.Second, 2 * time.Second, 7 * time.Second},
		{3 * time.Second, 3 * time.Second, 0, 4 * time.Second},
		{time.Hour, time.Minute, time.Minute, time.Hour},
	} {
		got := rescueAfter(RiverOptions{RescueStuckAfter: tc.rescue, CallTimeout: tc.call}, tc.attempt)
		require.Equal(t, tc.want, got, "%+v", tc)
	}
}
