package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// series is one line of a chart.
type series struct {
	Name   string
	Color  string
	Values []float64 // one per sample
}

// panel is one chart: a y axis with its unit and the lines on it.
type panel struct {
	Title  string
	Lines  []series
	Format func(float64) string // y tick labels
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 760
	panelHeight = 220
	marginLeft  = 70
	marginRight = 130
	marginTop   = 30
	marginBot   = 40
)

// writeSVG draws the samples as one panel per chart stacked vertically,
// time on the x axis and a dashed line where warm-up ends. It is
// hand-written SVG: a few dozen elements do not need a plotting library.
func writeSVG(w io.Writer, times []time.Duration, warm time.Duration, panels []panel) error {
	height := len(panels) * (panelHeight + marginTop + marginBot)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartWidth, height)
	xMax := 1.0
	if n := len(times); n > 0 && times[n-1].Seconds() > 0 {
		xMax = times[n-1].Seconds()
	}
	plotW := float64(chartWidth - marginLeft - marginRight)
	for i, p := range panels {
		top := float64(i*(panelHeight+marginTop+marginBot) + marginTop)
		drawPanel(&b, p, times, warm, xMax, top, plotW)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func drawPanel(b *strings.Builder, p panel, times []time.Duration, warm time.Duration, xMax, top, plotW float64) {
	plotH := float64(panelHeight)
	yMax := 0.0
	for _, l := range p.Lines {
		for _, v := range l.Values {
			yMax = math.Max(yMax, v)
		}
	}
	yMax = niceCeil(yMax)
	x := func(t time.Duration) float64 { return marginLeft + t.Seconds()/xMax*plotW }
	y := func(v float64) float64 { return top + plotH - v/yMax*plotH }

	fmt.Fprintf(b, `<text x="%d" y="%.1f" font-weight="bold">%s</text>`+"\n", marginLeft, top-10, escape(p.Title))
	fmt.Fprintf(b, `<rect x="%d" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`+"\n", marginLeft, top, plotW, plotH)
	// Horizontal grid and y labels at quarters of the axis.
	for k := 0; k <= 4; k++ {
		v := yMax * float64(k) / 4
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", marginLeft, y(v), marginLeft+plotW, y(v))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginLeft-6, y(v)+4, escape(p.Format(v)))
	}
	// x labels in seconds on round numbers: a 1, 2 or 5 step of at
	// least a sixth of the run.
	step := niceCeil(xMax / 6)
	for sec := 0.0; sec <= xMax; sec += step {
		t := time.Duration(sec * float64(time.Second))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%gs</text>`+"\n", x(t), top+plotH+16, sec)
	}
	if warm.Seconds() < xMax {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888" stroke-dasharray="4 3"/>`+"\n",
			x(warm), top, x(warm), top+plotH)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#666">warm-up</text>`+"\n", x(warm)+4, top+14)
	}
	for i, l := range p.Lines {
		var pts []string
		for j, v := range l.Values {
			if j < len(times) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(times[j]), y(v)))
			}
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", l.Color, strings.Join(pts, " "))
		ly := top + 20 + float64(i)*18
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`+"\n",
			marginLeft+plotW+12, ly-4, marginLeft+plotW+32, ly-4, l.Color)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", marginLeft+plotW+38, ly, escape(l.Name))
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, so that the
// axis ends on a round number (1 for an empty chart).
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
