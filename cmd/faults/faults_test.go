package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPeakIn: the most events in any window of the given length, wherever
// it starts.
func TestPeakIn(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	at := func(ms ...int) []time.Time {
		var ts []time.Time
		for _, m := range ms {
			ts = append(ts, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return ts
	}
	require.Zero(t, peakIn(nil, time.Second))
	require.Equal(t, 1, peakIn(at(0, 1000, 2000), time.Second))
	require.Equal(t, 3, peakIn(at(2000, 0, 900, 950, 1899), time.Second))
	require.Equal(t, 5, peakIn(at(0, 900, 950, 1899, 2000), 3*time.Second))
}

// TestSummarize: outcomes are counted by class, the slowest kept, a
// failure that is not problem+json counted, transport errors listed once.
func TestSummarize(t *testing.T) {
	s := summarize([]outcome{
		{Status: http.StatusOK, Latency: time.Millisecond},
		{Status: http.StatusServiceUnavailable, Problem: true, Latency: 3 * time.Second},
		{Status: http.StatusTooManyRequests, Problem: true},
		{Status: http.StatusInternalServerError},
		{Status: http.StatusNotFound, Problem: true, Tries: 2},
		{Err: "connection refused"}, {Err: "connection refused"},
	})
	require.Equal(t, summary{Requests: 7, OK: 1, Status429: 1, Status503: 1, Other5xx: 1, Other4xx: 1, Transport: 2,
		NotProblem: 1, Max: 3 * time.Second, Retried: 1, Errors: []string{"connection refused"}}, s)
}
