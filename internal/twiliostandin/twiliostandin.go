// Package twiliostandin is a local stand-in for the part of Twilio's REST
// API that customerhub uses, so that development and tests exercise the
// real twilio-go client end to end without a Twilio account:
//
//   - POST /2010-04-01/Accounts/{AccountSid}/Messages.json creates a
//     message (form-encoded To, From or MessagingServiceSid, Body,
//     StatusCallback), answering 201 with Twilio's message resource;
//   - GET the same path lists the account's messages, newest first,
//     filtered by To, From, DateSent, DateSent< and DateSent>, paged with
//     PageSize, Page and PageToken and a next_page_uri as Twilio pages;
//   - HTTP basic authentication with the account SID and auth token, or an
//     API key SID and secret of that account;
//   - errors in Twilio's body {"code", "message", "more_info", "status"}
//     with Twilio's codes (21211 invalid To, 21602 no Body, 21603 no From,
//     21604 no To, 21610 unsubscribed recipient, 20003 authentication,
//     20404 not found, 20429 too many requests);
//   - status callbacks (sent, then delivered or the fault's final status)
//     posted form-encoded to the message's StatusCallback with an
//     X-Twilio-Signature computed as Twilio documents: HMAC-SHA1 keyed by
//     the account's auth token over the URL followed by each parameter's
//     name and value in name order, base64-encoded.
//
// Faults are injected through Inject (Go) or POST /_standin/faults (JSON):
// a 400 with a given code, 429, 500, a slow reply, or a connection dropped
// after the message was accepted. A slow or dropped reply stores the
// message first, as Twilio would have: the caller cannot tell whether it
// was sent, which is exactly what the sender's reconciliation must handle.
//
// As on Twilio, a message has no date_sent until it is sent, so it matches
// no DateSent filter while queued.
package twiliostandin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/customerhub/customerhub/internal/sms"
)

// Development credentials: what `customerhub twilio-standin` and `make run`
// use unless told otherwise. They are alphanumeric, as twilio-go requires,
// and shaped like real SIDs so that customerhub's validation accepts them.
const (
	DevAccountSID = "AC00000000000000000000000000000001"
	DevAuthToken  = "standin0local0dev0token000000001"
	DevFromNumber = "+15005550006"
)

// APIVersion is the version segment of every path.
const APIVersion = "2010-04-01"

// Account is a Twilio account the stand-in knows.
type Account struct {
	SID       string
	AuthToken string
}

// APIKey is an API key of an account: it authenticates requests in place
// of the account's auth token.
type APIKey struct {
	SID        string
	Secret     string
	AccountSID string
}

// Options configure a Server.
type Options struct {
	Accounts []Account
	APIKeys  []APIKey
	// CallbackClient posts status callbacks; a client with a 10-second
	// timeout when nil.
	CallbackClient *http.Client
	// SendDelay is how long a message stays queued before it is sent, and
	// DeliverDelay how long after that it is delivered (both 0 by default:
	// the callbacks follow at once).
	SendDelay    time.Duration
	DeliverDelay time.Duration
	Logger       *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Fault changes how the next matching create requests are answered.
type Fault struct {
	// To limits the fault to messages to this number; empty matches all.
	To string `json:"to,omitempty"`
	// Times is how many matching requests the fault answers: 1 when 0,
	// every one until ClearFaults when negative.
	Times int `json:"times,omitempty"`
	// Status answers with this HTTP status and Twilio's error body instead
	// of creating the message: 400 (with Code, e.g. 21211 or 21610), 429
	// (code 20429 when Code is 0) or 500 (20500).
	Status int `json:"status,omitempty"`
	// Code is the Twilio error code of the body; Message its text.
	Code    int    `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Delay holds the answer back this long; the message (when the request
	// is valid) is stored before the wait.
	Delay time.Duration `json:"-"`
	// DelayMS is Delay in milliseconds, for the JSON control endpoint.
	DelayMS int64 `json:"delay_ms,omitempty"`
	// Drop accepts and stores the message, then closes the connection
	// without answering.
	Drop bool `json:"drop,omitempty"`
	// FinalStatus is the message's last status: delivered when empty, or
	// undelivered or failed, reported with ErrorCode (e.g. 30003).
	FinalStatus string `json:"final_status,omitempty"`
	ErrorCode   int    `json:"error_code,omitempty"`
}

// Message is a message the stand-in accepted.
type Message struct {
	SID                 string
	AccountSID          string
	To                  string
	From                string
	MessagingServiceSID string
	Body                string
	Status              string
	StatusCallback      string
	NumSegments         int
	ErrorCode           int
	DateCreated         time.Time
	DateUpdated         time.Time
	// DateSent is zero until the message is sent.
	DateSent time.Time
}

// Callback is a status callback the stand-in posted, with the answer.
type Callback struct {
	URL        string
	Params     url.Values
	Signature  string
	StatusCode int
	Err        error
}

// Server is the stand-in: an http.Handler.
type Server struct {
	opts     Options
	accounts map[string]Account
	keys     map[string]APIKey
	client   *http.Client
	logger   *slog.Logger
	now      func() time.Time

	mu           sync.Mutex
	messages     []*Message // in creation order
	faults       []*Fault
	unsubscribed map[string]bool
	callbacks    []Callback

	wg      sync.WaitGroup
	closing chan struct{}
	closed  bool
}

// New returns a Server; call Close when done.
func New(o Options) *Server {
	s := &Server{opts: o, accounts: map[string]Account{}, keys: map[string]APIKey{}, client: o.CallbackClient,
		logger: o.Logger, now: o.Now, unsubscribed: map[string]bool{}, closing: make(chan struct{})}
	for _, a := range o.Accounts {
		s.accounts[a.SID] = a
	}
	for _, k := range o.APIKeys {
		s.keys[k.SID] = k
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Close stops the callbacks in flight and waits for them.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Inject queues a fault; faults are matched in the order injected.
func (s *Server) Inject(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Delay == 0 && f.DelayMS > 0 {
		f.Delay = time.Duration(f.DelayMS) * time.Millisecond
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Unsubscribe makes every later message to number fail with 21610, as
// Twilio answers for a recipient who replied STOP; Resubscribe undoes it.
func (s *Server) Unsubscribe(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unsubscribed[number] = true
}

// Resubscribe undoes Unsubscribe.
func (s *Server) Resubscribe(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.unsubscribed, number)
}

// Messages returns a copy of every message accepted, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = *m
	}
	return out
}

// Callbacks returns a copy of every status callback posted so far.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Callback(nil), s.callbacks...)
}

// Sign computes the X-Twilio-Signature of a callback: HMAC-SHA1 keyed by
// the auth token over the URL and every parameter's name and value, in
// name order, base64-encoded (Twilio's "Webhooks security"). A repeated
// parameter signs its first value, as Twilio's validators read it.
func Sign(authToken, callbackURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(callbackURL)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(params.Get(k))
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

var (
	messagesPath = regexp.MustCompile(`^/` + APIVersion + `/Accounts/([^/]+)/Messages\.json$`)
	messagePath  = regexp.MustCompile(`^/` + APIVersion + `/Accounts/([^/]+)/Messages/([^/]+)\.json$`)
	e164         = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// ServeHTTP answers the Twilio API and the control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_standin/") {
		s.control(w, r)
		return
	}
	var account string
	var sid string
	if m := messagesPath.FindStringSubmatch(r.URL.Path); m != nil {
		account = m[1]
	} else if m := messagePath.FindStringSubmatch(r.URL.Path); m != nil {
		account, sid = m[1], m[2]
	} else {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	acct, ok := s.authenticate(r, account)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	switch {
	case sid != "" && r.Method == http.MethodGet:
		s.fetch(w, acct, sid)
	case sid == "" && r.Method == http.MethodPost:
		s.create(w, r, acct)
	case sid == "" && r.Method == http.MethodGet:
		s.list(w, r, acct)
	default:
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
	}
}

// authenticate checks HTTP basic credentials: the path's account SID with
// its auth token, or an API key of that account with its secret.
func (s *Server) authenticate(r *http.Request, accountSID string) (Account, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return Account{}, false
	}
	acct, known := s.accounts[accountSID]
	if !known {
		return Account{}, false
	}
	eq := func(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	if user == accountSID && eq(pass, acct.AuthToken) {
		return acct, true
	}
	if k, isKey := s.keys[user]; isKey && k.AccountSID == accountSID && eq(pass, k.Secret) {
		return acct, true
	}
	return Account{}, false
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, acct Account) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Invalid form body")
		return
	}
	to, from, msid, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("MessagingServiceSid"), r.PostForm.Get("Body")
	fault := s.takeFault(to)
	if fault != nil && fault.Status != 0 && !fault.Drop {
		sleep(r, fault.Delay)
		code := fault.Code
		if code == 0 {
			code = map[int]int{http.StatusTooManyRequests: 20429, http.StatusInternalServerError: 20500, http.StatusServiceUnavailable: 20503}[fault.Status]
		}
		msg := fault.Message
		if msg == "" {
			msg = errorText(code, fault.Status)
		}
		writeError(w, fault.Status, code, msg)
		return
	}
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !e164.MatchString(to):
		writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("Invalid 'To' Phone Number: %s", to))
		return
	case from == "" && msid == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case from != "" && !e164.MatchString(from):
		writeError(w, http.StatusBadRequest, 21212, fmt.Sprintf("Invalid From Number (caller ID): %s", from))
		return
	case msid != "" && !sms.MessagingServiceSIDPattern.MatchString(msid):
		writeError(w, http.StatusBadRequest, 21701, "The Messaging Service Sid "+msid+" is invalid.")
		return
	case body == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case len([]rune(body)) > 1600:
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	s.mu.Lock()
	stopped := s.unsubscribed[to]
	s.mu.Unlock()
	if stopped {
		writeError(w, http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient")
		return
	}
	now := s.now().UTC()
	m := &Message{SID: newSID("SM"), AccountSID: acct.SID, To: to, From: from, MessagingServiceSID: msid, Body: body,
		Status: "queued", StatusCallback: r.PostForm.Get("StatusCallback"), NumSegments: sms.Measure(body).Segments,
		DateCreated: now, DateUpdated: now}
	if from == "" {
		// A Messaging Service picks the sender from its pool when it
		// sends; until then Twilio answers "accepted" without a From.
		m.Status = "accepted"
	}
	final := "delivered"
	var finalCode int
	if fault != nil && fault.FinalStatus != "" {
		final, finalCode = fault.FinalStatus, fault.ErrorCode
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	resp := toResource(m)
	s.mu.Unlock()
	s.progress(m, acct, final, finalCode)

	if fault != nil && fault.Drop {
		dropConnection(w)
		return
	}
	if fault != nil {
		sleep(r, fault.Delay)
	}
	writeJSON(w, http.StatusCreated, resp)
}

// takeFault returns the first fault that matches a message to to, and
// counts it used.
func (s *Server) takeFault(to string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.To != "" && f.To != to {
			continue
		}
		taken := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &taken
	}
	return nil
}

// progress moves a message to sent, then to its final status, posting a
// status callback at each step when it has a callback URL.
func (s *Server) progress(m *Message, acct Account, final string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, step := range []struct {
			status string
			delay  time.Duration
		}{{"sent", s.opts.SendDelay}, {final, s.opts.DeliverDelay}} {
			if step.delay > 0 {
				select {
				case <-time.After(step.delay):
				case <-s.closing:
					return
				}
			}
			s.mu.Lock()
			now := s.now().UTC()
			m.Status, m.DateUpdated = step.status, now
			if step.status == "sent" {
				m.DateSent = now
				if m.From == "" {
					m.From = DevFromNumber
				}
			}
			if step.status == "failed" || step.status == "undelivered" {
				m.ErrorCode = code
			}
			snapshot := *m
			s.mu.Unlock()
			if snapshot.StatusCallback != "" {
				s.callback(acct, snapshot)
			}
		}
	}()
}

func (s *Server) callback(acct Account, m Message) {
	params := url.Values{
		"AccountSid": {m.AccountSID}, "ApiVersion": {APIVersion}, "From": {m.From}, "To": {m.To},
		"MessageSid": {m.SID}, "SmsSid": {m.SID}, "MessageStatus": {m.Status}, "SmsStatus": {m.Status},
	}
	if m.MessagingServiceSID != "" {
		params.Set("MessagingServiceSid", m.MessagingServiceSID)
	}
	if m.ErrorCode != 0 {
		params.Set("ErrorCode", strconv.Itoa(m.ErrorCode))
	}
	sig := Sign(acct.AuthToken, m.StatusCallback, params)
	cb := Callback{URL: m.StatusCallback, Params: params, Signature: sig}
	req, err := http.NewRequest(http.MethodPost, m.StatusCallback, strings.NewReader(params.Encode()))
	if err == nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		req.Header.Set("I-Twilio-Idempotency-Token", newSID("")+"-"+m.Status)
		req.Header.Set("User-Agent", "TwilioProxy/1.1")
		var resp *http.Response
		if resp, err = s.client.Do(req); err == nil {
			cb.StatusCode = resp.StatusCode
			_ = resp.Body.Close()
		}
	}
	cb.Err = err
	if err != nil {
		s.logger.Warn("twilio stand-in: status callback failed", "message_sid", m.SID, "status", m.Status, "error", err)
	}
	s.mu.Lock()
	s.callbacks = append(s.callbacks, cb)
	s.mu.Unlock()
}

// Inbound posts an incoming message from a number to webhookURL (the
// incoming-message webhook of the account's number), form-encoded and
// signed with the account's auth token as Twilio signs it, and returns the
// webhook's status and body. It simulates a recipient texting the
// sender, e.g. STOP or START (which, as on Twilio, also block or unblock
// later messages to the number: Unsubscribe, Resubscribe).
func (s *Server) Inbound(accountSID, webhookURL, from, to, body string) (int, string, error) {
	acct, ok := s.accounts[accountSID]
	if !ok {
		return 0, "", fmt.Errorf("twilio stand-in: unknown account %s", accountSID)
	}
	// As Twilio does, an opt-out keyword blocks later messages to the
	// number (21610) and an opt-in keyword lifts that, before the webhook
	// is told.
	switch sms.Keyword(body) {
	case sms.InboundOptOut:
		s.Unsubscribe(from)
	case sms.InboundOptIn:
		s.Resubscribe(from)
	}
	sid := newSID("SM")
	params := url.Values{
		"AccountSid": {acct.SID}, "ApiVersion": {APIVersion}, "From": {from}, "To": {to}, "Body": {body},
		"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid}, "SmsStatus": {"received"},
		"NumMedia": {"0"}, "NumSegments": {strconv.Itoa(sms.Measure(body).Segments)},
	}
	req, err := http.NewRequest(http.MethodPost, webhookURL, strings.NewReader(params.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", Sign(acct.AuthToken, webhookURL, params))
	req.Header.Set("I-Twilio-Idempotency-Token", newSID("")+"-inbound")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(raw), err
}

func (s *Server) fetch(w http.ResponseWriter, acct Account, sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.SID == sid && m.AccountSID == acct.SID {
			writeJSON(w, http.StatusOK, toResource(m))
			return
		}
	}
	writeError(w, http.StatusNotFound, 20404, "The requested resource /"+APIVersion+"/Accounts/"+acct.SID+"/Messages/"+sid+".json was not found")
}

// list answers a page of the account's messages, newest first. A page
// after the first starts after the message named by PageToken ("PA" and
// the SID of the previous page's last message), so messages created
// meanwhile do not shift it; Page is the page's number, as Twilio reports.
func (s *Server) list(w http.ResponseWriter, r *http.Request, acct Account) {
	q := r.URL.Query()
	pageSize := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid PageSize: must be from 1 to 1000")
			return
		}
		pageSize = n
	}
	page := 0
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid Page")
			return
		}
		page = n
	}
	var sentOn, sentBefore, sentAfter *time.Time
	for _, f := range []struct {
		name string
		dst  **time.Time
	}{{"DateSent", &sentOn}, {"DateSent<", &sentBefore}, {"DateSent>", &sentAfter}} {
		if v := q.Get(f.name); v != "" {
			t, err := parseDate(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, 20001, "Invalid "+f.name+": "+v)
				return
			}
			*f.dst = &t
		}
	}
	to, from := q.Get("To"), q.Get("From")
	token := strings.TrimPrefix(q.Get("PageToken"), "PA")

	s.mu.Lock()
	var match []map[string]any
	started := token == ""
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if !started {
			started = m.SID == token
			continue
		}
		if m.AccountSID != acct.SID || (to != "" && m.To != to) || (from != "" && m.From != from) {
			continue
		}
		// Twilio's date filters compare date_sent: a message not yet
		// sent has none and matches no filter. A date alone (no time)
		// means its whole day, UTC.
		if sentOn != nil || sentBefore != nil || sentAfter != nil {
			if m.DateSent.IsZero() {
				continue
			}
			if sentOn != nil && !sameDay(m.DateSent, *sentOn) {
				continue
			}
			if sentBefore != nil && !m.DateSent.Before(*sentBefore) {
				continue
			}
			if sentAfter != nil && m.DateSent.Before(*sentAfter) {
				continue
			}
		}
		match = append(match, toResource(m))
		if len(match) > pageSize {
			break
		}
	}
	s.mu.Unlock()

	base := "/" + APIVersion + "/Accounts/" + acct.SID + "/Messages.json"
	filters := url.Values{}
	for _, k := range []string{"To", "From", "DateSent", "DateSent<", "DateSent>"} {
		if v := q.Get(k); v != "" {
			filters.Set(k, v)
		}
	}
	pageURI := func(p int, tok string) string {
		v := url.Values{}
		for k, vs := range filters {
			v[k] = vs
		}
		v.Set("PageSize", strconv.Itoa(pageSize))
		v.Set("Page", strconv.Itoa(p))
		if tok != "" {
			v.Set("PageToken", tok)
		}
		return base + "?" + v.Encode()
	}
	var next *string
	if len(match) > pageSize {
		match = match[:pageSize]
		n := pageURI(page+1, "PA"+match[len(match)-1]["sid"].(string))
		next = &n
	}
	if match == nil {
		match = []map[string]any{}
	}
	var prev *string
	if page > 0 {
		p := pageURI(page-1, "")
		prev = &p
	}
	start := page * pageSize
	writeJSON(w, http.StatusOK, map[string]any{
		"messages": match, "page": page, "page_size": pageSize, "start": start, "end": start + max(len(match)-1, 0),
		"uri": r.URL.RequestURI(), "first_page_uri": pageURI(0, ""), "next_page_uri": next, "previous_page_uri": prev,
	})
}

func sameDay(a, b time.Time) bool {
	ya, ma, da := a.UTC().Date()
	yb, mb, db := b.UTC().Date()
	return ya == yb && ma == mb && da == db
}

func parseDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, v)
}

// control serves the endpoints that steer the stand-in:
// POST /_standin/faults (a Fault as JSON), DELETE /_standin/faults,
// GET /_standin/messages, POST /_standin/unsubscribe?number=, and POST
// /_standin/inbound {"account_sid"?, "url", "from", "to", "body"} (Inbound;
// the development account when account_sid is empty).
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_standin/faults" && r.Method == http.MethodPost:
		var f Fault
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "fault: " + err.Error()})
			return
		}
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "status must be an HTTP error status (400-599)"})
			return
		}
		s.Inject(f)
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_standin/faults" && r.Method == http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_standin/messages" && r.Method == http.MethodGet:
		msgs := s.Messages()
		out := make([]map[string]any, 0, len(msgs))
		for i := range msgs {
			out = append(out, toResource(&msgs[i]))
		}
		writeJSON(w, http.StatusOK, map[string]any{"messages": out})
	case r.URL.Path == "/_standin/inbound" && r.Method == http.MethodPost:
		var in struct {
			AccountSID string `json:"account_sid"`
			URL        string `json:"url"`
			From       string `json:"from"`
			To         string `json:"to"`
			Body       string `json:"body"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "inbound: " + err.Error()})
			return
		}
		if u, err := url.Parse(in.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "url must be an http(s) URL"})
			return
		}
		if in.AccountSID == "" {
			in.AccountSID = DevAccountSID
		}
		status, body, err := s.Inbound(in.AccountSID, in.URL, in.From, in.To, in.Body)
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": status, "body": body})
	case r.URL.Path == "/_standin/unsubscribe" && r.Method == http.MethodPost:
		n := r.URL.Query().Get("number")
		if !e164.MatchString(n) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "number must be E.164"})
			return
		}
		s.Unsubscribe(n)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown control endpoint"})
	}
}

// toResource renders a message as Twilio's API does (dates in RFC 2822,
// counts as strings).
func toResource(m *Message) map[string]any {
	date := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.RFC1123Z)
	}
	opt := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	var code any
	if m.ErrorCode != 0 {
		code = m.ErrorCode
	}
	uri := "/" + APIVersion + "/Accounts/" + m.AccountSID + "/Messages/" + m.SID
	return map[string]any{
		"account_sid": m.AccountSID, "api_version": APIVersion, "body": m.Body, "date_created": date(m.DateCreated),
		"date_sent": date(m.DateSent), "date_updated": date(m.DateUpdated), "direction": "outbound-api",
		"error_code": code, "error_message": nil, "from": opt(m.From), "messaging_service_sid": opt(m.MessagingServiceSID),
		"num_media": "0", "num_segments": strconv.Itoa(m.NumSegments), "price": nil, "price_unit": "USD", "sid": m.SID,
		"status": m.Status, "to": m.To, "uri": uri + ".json",
		"subresource_uris": map[string]string{"media": uri + "/Media.json", "feedback": uri + "/Feedback.json"},
	}
}

func errorText(code, status int) string {
	switch code {
	case 21211:
		return "Invalid 'To' Phone Number"
	case 21610:
		return "Attempt to send to unsubscribed recipient"
	case 20429:
		return "Too Many Requests"
	}
	return http.StatusText(status)
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{"code": code, "message": message,
		"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), "status": status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func sleep(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

func newSID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(errors.New("twilio stand-in: no randomness: " + err.Error()))
	}
	return prefix + hex.EncodeToString(b[:])
}
