package sms

import "unicode/utf16"

// Encodings of a message body.
const (
	EncodingGSM7 = "GSM-7"
	EncodingUCS2 = "UCS-2"
)

// gsmBasic is the GSM 03.38 default alphabet (one septet each), without the
// escape code itself; gsmExtension is its extension table, whose
// characters take two septets (escape and the character).
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

var gsmUnits = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Measure is what a body costs to send.
type Measurement struct {
	// Encoding is GSM-7 when every character is in the GSM 03.38 alphabet
	// or its extension table, otherwise UCS-2.
	Encoding string
	// Units are septets (GSM-7) or UTF-16 code units (UCS-2).
	Units int
	// Segments is how many SMS the body is sent as: one up to 160 septets
	// (70 UCS-2 units), otherwise parts of at most 153 septets (67 units),
	// the rest of each part carrying the concatenation header. A character
	// is never split between parts: an extension character's escape and
	// itself, or a surrogate pair, move to the next part together.
	Segments int
}

// Measure returns a body's encoding, length and segment count (GSM 03.38
// and 3GPP TS 23.040 concatenation); an empty body is 0 segments.
func Measure(body string) Measurement {
	if body == "" {
		return Measurement{Encoding: EncodingGSM7}
	}
	sizes := make([]int, 0, len(body))
	gsm := true
	for _, r := range body {
		n, ok := gsmUnits[r]
		if !ok {
			gsm = false
			break
		}
		sizes = append(sizes, n)
	}
	single, part, enc := 160, 153, EncodingGSM7
	if !gsm {
		single, part, enc = 70, 67, EncodingUCS2
		sizes = sizes[:0]
		for _, r := range body {
			sizes = append(sizes, len(utf16.Encode([]rune{r})))
		}
	}
	units := 0
	for _, n := range sizes {
		units += n
	}
	if units <= single {
		return Measurement{Encoding: enc, Units: units, Segments: 1}
	}
	segments, used := 1, 0
	for _, n := range sizes {
		if used+n > part {
			segments++
			used = 0
		}
		used += n
	}
	return Measurement{Encoding: enc, Units: units, Segments: segments}
}
