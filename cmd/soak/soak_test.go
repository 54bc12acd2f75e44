package main

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// samplesOf makes one sample every 10 s with the api RSS values given.
func samplesOf(rss ...int64) []sample {
	out := make([]sample, len(rss))
	for i, v := range rss {
		out[i] = sample{At: time.Duration(i) * 10 * time.Second, APIRSS: v}
	}
	return out
}

func TestWarmUp(t *testing.T) {
	t.Parallel()
	require.Equal(t, 60*time.Second, warmUp(2*time.Minute))
	require.Equal(t, 2*time.Minute, warmUp(10*time.Minute))
}

func TestCheckGrowth(t *testing.T) {
	t.Parallel()
	value := func(s sample) float64 { return float64(s.APIRSS) }
	tests := []struct {
		name        string
		samples     []sample
		first, last float64
		fails       string
	}{
		// Warm-up (60 s) leaves out the first six samples, whatever they are.
		{name: "Flat", samples: samplesOf(1, 5, 9, 50, 70, 90, 100, 100, 100, 100, 100, 100), first: 100, last: 100},
		{name: "GrowthWithin", samples: samplesOf(0, 0, 0, 0, 0, 0, 100, 100, 105, 108, 110, 110), first: 100, last: 110},
		{name: "GrowthBeyond", samples: samplesOf(0, 0, 0, 0, 0, 0, 100, 100, 105, 108, 111, 111), first: 100, last: 111,
			fails: "grew 11.0 %"},
		{name: "FallIsNoLeak", samples: samplesOf(0, 0, 0, 0, 0, 0, 200, 200, 150, 150, 100, 100), first: 200, last: 100},
		{name: "TooShort", samples: samplesOf(0, 0, 0, 0, 0, 0, 100, 100), fails: "only 2 samples"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := checkGrowth("api RSS", tc.samples, 60*time.Second, value)
			require.InDelta(t, tc.first, g.First, 1e-9)
			require.InDelta(t, tc.last, g.Last, 1e-9)
			if tc.fails == "" {
				require.NoError(t, g.Err())
				return
			}
			require.ErrorContains(t, g.Err(), tc.fails)
		})
	}
}

func TestCSVLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l, err := newCSVLog(&buf)
	require.NoError(t, err)
	require.NoError(t, l.Append(sample{At: 10500 * time.Millisecond, APIRSS: 1 << 20, WorkerGoroutines: 42, AuditEvents: 7,
		Requests: 1000, Errors5xx: 1, JobsStarted: 2, JobsFinished: 1}))

	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, csvHeader, rows[0])
	got := map[string]string{}
	for i, name := range rows[0] {
		got[name] = rows[1][i]
	}
	require.Equal(t, "10.5", got["seconds"])
	require.Equal(t, "1048576", got["api_rss_bytes"])
	require.Equal(t, "42", got["worker_goroutines"])
	require.Equal(t, "7", got["audit_events_rows"])
	require.Equal(t, "1000", got["requests"])
	require.Equal(t, "1", got["errors_5xx"])
	require.Equal(t, "1", got["jobs_finished"])
}

func TestWriteSVG(t *testing.T) {
	t.Parallel()
	times := []time.Duration{0, 10 * time.Second, 20 * time.Second}
	panels := []panel{{Title: "RSS <MiB>", Format: func(v float64) string { return "v" }, Lines: []series{
		{Name: "api", Color: "#000", Values: []float64{10, 20, 15}},
		{Name: "worker", Color: "#f00", Values: []float64{5, 5, 5}},
	}}}
	var buf bytes.Buffer
	require.NoError(t, writeSVG(&buf, times, 10*time.Second, panels))

	// Well-formed XML, one polyline per series with a point per sample,
	// the title escaped and the warm-up marked.
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	var polylines []string
	for {
		tok, err := dec.Token()
		if err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "polyline" {
			for _, a := range el.Attr {
				if a.Name.Local == "points" {
					polylines = append(polylines, a.Value)
				}
			}
		}
	}
	require.Len(t, polylines, 2)
	require.Len(t, strings.Fields(polylines[0]), 3)
	require.Contains(t, buf.String(), "RSS &lt;MiB&gt;")
	require.Contains(t, buf.String(), "warm-up")
}

func TestNiceCeil(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]float64{0: 1, 0.3: 0.5, 7: 10, 12: 20, 180: 200, 250: 500, 1000: 1000} {
		require.InDelta(t, want, niceCeil(in), 1e-9, "niceCeil(%v)", in)
	}
}
