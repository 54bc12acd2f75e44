package main

import (
	"fmt"
	"time"
)

// maxGrowth is how much the last third's mean may exceed the first
// post-warm-up third's mean (issue 14: 10 %). Only growth counts: memory
// or goroutines that fall after warm-up are no leak.
const maxGrowth = 0.10

// warmUp is the part of a run left out of the growth check: the first
// 20 % and at least 60 s, while caches, pools and the Go heap settle.
func warmUp(d time.Duration) time.Duration {
	return max(d/5, 60*time.Second)
}

// growth is the growth check of one series: the mean of its first and last
// thirds after warm-up and whether the last exceeds the first by more than
// maxGrowth.
type growth struct {
	Name        string
	First, Last float64
	Samples     int // samples after warm-up
}

// Ratio is Last over First (0 when First is 0).
func (g growth) Ratio() float64 {
	if g.First == 0 {
		return 0
	}
	return g.Last / g.First
}

// Err says why the series fails the check, or nil.
func (g growth) Err() error {
	if g.Samples < 3 {
		return fmt.Errorf("%s: only %d samples after warm-up, at least 3 are needed to compare thirds (run longer)", g.Name, g.Samples)
	}
	if g.Last > g.First*(1+maxGrowth) {
		return fmt.Errorf("%s grew %.1f %% after warm-up (mean of the first third %.0f, of the last third %.0f; at most %.0f %% is allowed)",
			g.Name, (g.Ratio()-1)*100, g.First, g.Last, maxGrowth*100)
	}
	return nil
}

// checkGrowth compares value's mean over the first and the last third of
// the samples taken after warmUp. A third has at least one sample; with
// fewer than three samples the result's Err reports it.
func checkGrowth(name string, samples []sample, warm time.Duration, value func(sample) float64) growth {
	var after []float64
	for _, s := range samples {
		if s.At >= warm {
			after = append(after, value(s))
		}
	}
	g := growth{Name: name, Samples: len(after)}
	if len(after) < 3 {
		return g
	}
	third := len(after) / 3
	g.First, g.Last = mean(after[:third]), mean(after[len(after)-third:])
	return g
}

func mean(vs []float64) float64 {
	var sum float64
	for _, v := range vs {
		sum += v
	}
	return sum / float64(len(vs))
}
